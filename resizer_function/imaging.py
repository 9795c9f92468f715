"""The Pillow pipeline: decode at the smallest useful scale, resize, orient, encode without metadata.

Order matters for speed: the EXIF orientation is read from the header and the geometry is
computed in display coordinates *before* any pixel is decoded, so a JPEG is decoded at 1/2,
3/8, 1/4 or 1/8 scale (``draft``); the crop box is mapped back to stored coordinates, the image is
resized there, and only the small result is rotated. The orientation tag, EXIF, XMP and
comments never reach the output. ICC profiles are kept when they match the output's colour
space and converted to sRGB for CMYK sources. Animated sources give their first frame.
"""

import contextlib
import io
import math
import struct
import time
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageCms, JpegImagePlugin, UnidentifiedImageError, features

from resizer_function import jpeg_scaled, resample, webp_scaled
from resizer_function.errors import RequestRefused
from resizer_function.formats import DECODERS, described
from resizer_function.request import DEFAULT_QUALITY, ResizeRequest

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
WEB_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif", "GIF": "png"}
ALPHA_FORMATS = {"png", "webp", "avif"}
# How Image.transpose() turns stored pixels into display pixels, by EXIF orientation.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass
class Rendered:
    """An encoded output image and what it cost."""

    body: bytes
    format: str
    width: int
    height: int
    source_pixels: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class Geometry:
    """Output size, the source box to scale into it (display coordinates) and the canvas."""

    size: tuple[int, int]
    box: tuple[float, float, float, float]
    canvas: tuple[int, int]


def output_formats() -> tuple[str, ...]:
    """The output formats this Pillow build can encode."""
    return tuple(f for f in CONTENT_TYPES if f != "avif" or features.check("avif"))


def render(data: bytes, request: ResizeRequest, max_pixels: int, max_dimension: int) -> Rendered:
    """Resize encoded image bytes as the request says; RequestRefused for what cannot be done."""
    started = time.perf_counter()
    im = open_image(data, max_pixels)
    with _undecodable():
        orientation = _orientation(im)  # may read the whole file (a PNG's eXIf follows its pixels)
    swap = orientation >= 5
    width, height = im.size[::-1] if swap else im.size
    geometry = fit(width, height, request, max_dimension)
    out_format = request.format or _default_format(im)
    raw_box = _to_stored(geometry.box, orientation, width, height)
    raw_size = geometry.size[::-1] if swap else geometry.size
    with _undecodable():
        im, raw_box = _decode(im, data, raw_box, raw_size)
        im = _normalise(im, flatten=out_format not in ALPHA_FORMATS)
    decoded = time.perf_counter()
    full = (0, 0, im.width, im.height)
    if raw_size != im.size or any(abs(a - b) > 1e-6 for a, b in zip(raw_box, full, strict=True)):
        im = resample.resize(im, raw_size, raw_box)
    if orientation in TRANSPOSE:
        im = im.transpose(TRANSPOSE[orientation])
    if geometry.canvas != geometry.size:
        im = _pad(im, geometry.canvas, transparent=out_format in ALPHA_FORMATS)
    resized = time.perf_counter()
    body = encode(im, out_format, request.quality)
    done = time.perf_counter()
    timings = {
        "decode": (decoded - started) * 1000,
        "resize": (resized - decoded) * 1000,
        "encode": (done - resized) * 1000,
    }
    return Rendered(body, out_format, im.width, im.height, width * height, timings)


def default_format(data: bytes, max_pixels: int) -> str:
    """The output format of a request that names none, for this original (its header only)."""
    return _default_format(open_image(data, max_pixels))


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) with real image decoders; 415 for anything else, 413 for bombs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=DECODERS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise RequestRefused(413, "too_many_pixels", f"the source is a decompression bomb: {exc}") from None
    except UnidentifiedImageError:  # its message holds the buffer's repr: nothing for a client
        raise RequestRefused(
            415, "unsupported_media_type", f"the source is not a {described()} image"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise RequestRefused(
            415, "unsupported_media_type", f"the source is not a supported image ({exc})"
        ) from None
    if im.width * im.height > max_pixels:
        raise RequestRefused(
            413, "too_many_pixels", f"the source has {im.width}x{im.height} pixels, over {max_pixels}"
        )
    return im


def fit(width: int, height: int, request: ResizeRequest, max_dimension: int) -> Geometry:
    """The output geometry for a display-oriented source of width x height (CSS/sharp fits)."""
    want_w, want_h, how = request.width, request.height, request.effective_fit
    full = (0.0, 0.0, float(width), float(height))
    if not want_w or not want_h:
        scale = want_w / width if want_w else want_h / height  # type: ignore[operator]
        size = (want_w or _side(width * scale), want_h or _side(height * scale))
        return _checked(Geometry(size, full, size), max_dimension)
    if how == "fill":
        return _checked(Geometry((want_w, want_h), full, (want_w, want_h)), max_dimension)
    scales = (want_w / width, want_h / height)
    if how == "cover":
        scale = max(scales)
        crop_w, crop_h = want_w / scale, want_h / scale
        left, top = (width - crop_w) / 2, (height - crop_h) / 2
        # Clamped: float error leaves e.g. -7e-15 where the crop spans the whole side.
        box = (max(0.0, left), max(0.0, top), min(width, left + crop_w), min(height, top + crop_h))
        return _checked(Geometry((want_w, want_h), box, (want_w, want_h)), max_dimension)
    scale = max(scales) if how == "outside" else min(scales)
    size = (_side(width * scale), _side(height * scale))
    canvas = (want_w, want_h) if how == "contain" else size
    return _checked(Geometry(size, full, canvas), max_dimension)


def _side(value: float) -> int:
    return max(1, math.floor(value + 0.5))  # half up, as sharp and CSS round


def _checked(geometry: Geometry, max_dimension: int) -> Geometry:
    if max(geometry.canvas) > max_dimension:
        w, h = geometry.canvas
        raise RequestRefused(
            403, "size_not_allowed", f"the output would be {w}x{h}, over the {max_dimension} limit"
        )
    return geometry


def _orientation(im: Image.Image) -> int:
    value = im.getexif().get(0x0112, 1)
    return value if value in TRANSPOSE else 1


def _to_stored(box, orientation: int, width: int, height: int):
    """Map a box in display coordinates (width x height) to the stored image's coordinates."""
    x0, y0, x1, y1 = box
    mapped = {
        1: (x0, y0, x1, y1),
        2: (width - x1, y0, width - x0, y1),
        3: (width - x1, height - y1, width - x0, height - y0),
        4: (x0, height - y1, x1, height - y0),
        5: (y0, x0, y1, x1),
        6: (y0, width - x1, y1, width - x0),
        7: (height - y1, width - x1, height - y0, width - x0),
        8: (height - y1, x0, height - y0, x1),
    }
    return mapped[orientation]


def _decode(im: Image.Image, data: bytes, box, size: tuple[int, int]):
    """Decode pixels at the smallest useful scale, as sharp does, and map the box along: a JPEG
    at the DCT scale jpeg_scaled picks (1/8 to 1/2), a still WebP to 1.5-2x the output's scale."""
    if isinstance(im, JpegImagePlugin.JpegImageFile):  # MPO (camera JPEGs) included
        factor = jpeg_scaled.draft(im, data, box, size)
        if factor < 1:
            box = _scaled(box, factor, factor, im.size)
    elif im.format == "WEBP" and not getattr(im, "is_animated", False):
        # libwebp's scaler (area averaging) to 1.5x the output (2x when shrinking 4x or more), then
        # LANCZOS: straight to the output (as sharp) measured 31.1 dB against naive Pillow at 150 px.
        shrink = min((box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1])
        margin = 2 if shrink >= 4 else 1.5
        fx, fy = margin * size[0] / (box[2] - box[0]), margin * size[1] / (box[3] - box[1])
        scaled = (round(im.width * fx), round(im.height * fy))
        if fx < 1 and fy < 1 and (decoded := webp_scaled.decode(data, scaled)):
            decoded.info = im.info
            return decoded, _scaled(box, scaled[0] / im.width, scaled[1] / im.height, scaled)
    im.load()
    return im, box


def _scaled(box, fx: float, fy: float, bounds: tuple[int, int]):
    return (box[0] * fx, box[1] * fy, min(box[2] * fx, bounds[0]), min(box[3] * fy, bounds[1]))


@contextlib.contextmanager
def _undecodable() -> Iterator[None]:
    """Errors the decoders raise on truncated or corrupt files are the client's 415, not a 500."""
    try:
        yield
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise RequestRefused(415, "unsupported_media_type", f"the source cannot be decoded ({exc})") from None


def _normalise(im: Image.Image, flatten: bool) -> Image.Image:
    """Bring any decoded mode to L, LA, RGB or RGBA; flatten alpha onto white if asked."""
    icc = im.info.get("icc_profile")
    if im.mode in ("CMYK", "LAB"):
        im, icc = _to_srgb(im, icc), None
    elif im.mode.startswith("I"):  # 16-bit (or wider) grey: scale to 8 bits, do not clip
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif im.mode == "F":  # floating point grey: 0..1 when it fits there, else clipped to 0..255
        im = (im.point(lambda v: v * 255) if im.getextrema()[1] <= 1.0 else im).convert("L")
    elif im.mode in ("P", "PA", "RGB", "L") and im.has_transparency_data:  # palette or tRNS colour key
        im = im.convert("LA" if im.mode == "L" else "RGBA")
    elif im.mode in ("P", "1"):
        im = im.convert("RGB" if im.mode == "P" else "L")
    elif im.mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert({"RGBa": "RGBA", "La": "LA"}.get(im.mode, "RGB"))
    if flatten and im.mode in ("LA", "RGBA"):
        background = Image.new(im.mode[:-1], im.size, "white")
        background.paste(im, mask=im.getchannel("A"))
        im = background
    im.info = {"icc_profile": icc} if _profile_fits(icc, im.mode) else {}
    return im


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """CMYK through its own profile (when it is a CMYK profile), LAB through Lab; else plainly."""
    source = None
    if im.mode == "LAB":
        source = ImageCms.createProfile("LAB")
    elif icc and icc[16:20] == b"CMYK":
        with contextlib.suppress(ImageCms.PyCMSError, OSError):
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if source is not None:
        with contextlib.suppress(ImageCms.PyCMSError, OSError):
            return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    return im.convert("RGB")


def _profile_fits(icc: bytes | None, mode: str) -> bool:
    space = icc[16:20] if icc else b""
    return (space == b"RGB " and mode in ("RGB", "RGBA")) or (space == b"GRAY" and mode in ("L", "LA"))


def _pad(im: Image.Image, canvas: tuple[int, int], transparent: bool) -> Image.Image:
    """Centre im on a canvas: transparent where the output format has alpha, white otherwise."""
    mode = im.mode if not transparent or im.mode in ("LA", "RGBA") else im.mode + "A"
    padded = Image.new(mode, canvas, (255,) * (len(mode) - 1) + (0,) if transparent else "white")
    padded.paste(im, ((canvas[0] - im.width) // 2, (canvas[1] - im.height) // 2))
    padded.info = im.info
    return padded


def _default_format(im: Image.Image) -> str:
    """The original's format when browsers show it; else PNG with alpha, JPEG without."""
    if im.format in WEB_FORMATS:
        return WEB_FORMATS[im.format]
    return "png" if im.mode in ("LA", "La", "PA", "RGBA", "RGBa") or im.has_transparency_data else "jpeg"


def encode(im: Image.Image, out_format: str, quality: int | None) -> bytes:
    """Encode with only the pixels and the ICC profile: no EXIF, XMP, GPS or comments."""
    options: dict[str, object] = {"icc_profile": im.info.get("icc_profile")}
    if out_format in DEFAULT_QUALITY:
        options["quality"] = quality or DEFAULT_QUALITY[out_format]
    if out_format == "png":  # zlib level 1: a third of level 6's time for ~6 % more bytes (measured);
        # run-length matches only: a photo 300x225 RGBA 9.0 -> 6.2 ms and 4 % smaller, a flat
        # graphic 35 % faster and 8 % bigger (measured, docs/PERFORMANCE.md)
        options["compress_level"] = 1
        options["compress_type"] = zlib.Z_RLE
    if out_format in ("webp", "avif") and im.mode in ("L", "LA"):
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")
        options.pop("icc_profile")
    im.info = {}
    buffer = io.BytesIO()
    im.save(buffer, format=out_format.upper(), **{k: v for k, v in options.items() if v is not None})
    return buffer.getvalue()
