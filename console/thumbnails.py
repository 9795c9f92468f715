"""Thumbnails for the Images page, made in the console process with Pillow: no object is stored and
no function is invoked (a thumbnail must not cost a Lambda run or clutter the bucket, and must work
whatever AllowedSizes says). Each is made once per (bucket, key, ETag) and kept in a small LRU.

Only what the function itself would decode is decoded (resizer_function.formats, the function's
pixel limit, decompression bombs refused from the header); JPEGs decode at reduced scale.
"""

import io
import threading
import warnings
from collections import OrderedDict

from operations import images
from resizer_function import formats
from resizer_function.settings import Settings as FunctionSettings

SIDE = 160
KEPT = 512  # thumbnails are a few KB each
MAX_PIXELS = FunctionSettings.max_source_pixels
SMALL_ENOUGH = 5_000_000  # originals up to this many bytes are their own thumbnail's source


class NoPreview(Exception):
    """The bytes are not an image the function would render."""


_cache: "OrderedDict[tuple[str, str, str], bytes]" = OrderedDict()
_lock = threading.Lock()


def cached(bucket: str, key: str, etag: str) -> bytes | None:
    with _lock:
        found = _cache.get((bucket, key, etag))
        if found is not None:
            _cache.move_to_end((bucket, key, etag))
        return found


def remember(bucket: str, key: str, etag: str, thumbnail: bytes) -> None:
    with _lock:
        _cache[(bucket, key, etag)] = thumbnail
        _cache.move_to_end((bucket, key, etag))
        while len(_cache) > KEPT:
            _cache.popitem(last=False)


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


def source_of(group: images.Group) -> images.ImageObject:
    """The object an original's thumbnail is made from: the original when it is small enough,
    else its smallest derived object (a few KB to download instead of megabytes), else the original."""
    if group.original.size <= SMALL_ENOUGH or not group.derived:
        return group.original
    return min(group.derived, key=lambda d: d.size)
