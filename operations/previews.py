"""Previews: a small WebP of an image, decoded only as the function would decode it (its formats,
its pixel limit, decompression bombs refused from the header); JPEGs decode at reduced scale."""

import io
import warnings

from resizer_function import formats
from resizer_function.settings import Settings as FunctionSettings

SIDE = 160
MAX_PIXELS = FunctionSettings.max_source_pixels


class NoPreview(Exception):
    """The bytes are not an image the function would render."""


def render(body: bytes, side: int = SIDE) -> bytes:
    """A WebP thumbnail that fits side x side, oriented as displayed; NoPreview if it cannot be made."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=formats.DECODERS) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise NoPreview("too many pixels")
                im.draft("RGB", (side * 2, side * 2))  # JPEG: decode at 1/2..1/8 scale
                im = ImageOps.exif_transpose(im)
                im.thumbnail((side, side), Image.Resampling.LANCZOS)
                if im.mode not in ("RGB", "RGBA"):
                    im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
                out = io.BytesIO()
                im.save(out, "WEBP", quality=75)
                return out.getvalue()
    except NoPreview:
        raise
    except Exception:  # any decoder's complaint, a bomb, a truncated file: no preview, never a 500
        raise NoPreview("not an image the function renders") from None
