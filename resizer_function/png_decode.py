"""Plain 8-bit PNGs decoded by the libpng that Pillow bundles (ctypes): the same pixels, faster.

libpng's simplified API (``png_image``, ``PNG_IMAGE_VERSION`` 1, stable across libpng 1.6)
unfilters rows faster than Pillow's own PNG decoder (both inflate with the same zlib). Only
images whose pixels it returns unchanged come here: 8-bit L, LA, RGB or RGBA without gamma
(libpng would correct it) or a colour key; anything else, a missing library, a
libpng other than 1.6 or a decode error returns None and Pillow decodes as before.
"""

import ctypes
import functools
from ctypes import POINTER, byref, c_char, c_int, c_size_t, c_uint32, c_void_p
from pathlib import Path

import PIL
from PIL import Image

IMAGE_VERSION = 1  # PNG_IMAGE_VERSION
LIBRARY_GLOB = "libpng16-*.so*"  # manylinux wheels bundle it under pillow.libs/ (for FreeType)
FORMATS = {"L": 0, "LA": 1, "RGB": 2, "RGBA": 3}  # PNG_FORMAT_GRAY, _GA, _RGB, _RGBA


class _PngImage(ctypes.Structure):
    _fields_ = [
        ("opaque", c_void_p),
        *((n, c_uint32) for n in ("version", "width", "height", "format", "flags", "colormaps", "warning")),
        ("message", c_char * 64),
    ]


def decode(im: Image.Image, data: bytes) -> Image.Image | None:
    """im's pixels (a PNG opened from data) decoded by libpng, or None: let Pillow decode then."""
    plain = im.mode in FORMATS and im.tile and im.tile[0].args == im.mode
    if not plain or "gamma" in im.info or "transparency" in im.info:
        return None
    lib = library()
    image = _PngImage(version=IMAGE_VERSION)
    if lib is None or not lib.png_image_begin_read_from_memory(byref(image), data, len(data)):
        return None
    if (image.width, image.height) != im.size:
        lib.png_image_free(byref(image))
        return None
    image.format = FORMATS[im.mode]
    stride = im.width * len(im.mode)
    pixels = ctypes.create_string_buffer(stride * im.height)
    if not lib.png_image_finish_read(byref(image), None, pixels, stride, None):
        lib.png_image_free(byref(image))
        return None
    return Image.frombuffer(im.mode, im.size, pixels, "raw", im.mode, stride, 1)


@functools.cache
def library() -> ctypes.CDLL | None:
    """Pillow's own libpng 1.6, or None."""
    found = sorted((Path(PIL.__file__).parent.parent / "pillow.libs").glob(LIBRARY_GLOB))
    if not found:
        return None
    try:
        lib = ctypes.CDLL(str(found[0]))
        lib.png_access_version_number.restype = c_uint32
        if lib.png_access_version_number() // 100 != 106:  # 1.6.x is 106xx
            return None
        lib.png_image_begin_read_from_memory.argtypes = [POINTER(_PngImage), c_void_p, c_size_t]
        lib.png_image_finish_read.argtypes = [POINTER(_PngImage), c_void_p, c_void_p, c_int, c_void_p]
        lib.png_image_free.argtypes = [POINTER(_PngImage)]
    except (OSError, AttributeError):
        return None
    return lib
