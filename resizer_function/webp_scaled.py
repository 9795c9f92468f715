"""Still WebP decoded straight to a smaller size by the libwebp that Pillow bundles (ctypes).

libwebp's decoder can scale while it decodes (``WebPDecoderConfig.options.use_scaling``), which
Pillow does not expose: a 3000x2000 WebP decoded to 1200x800 costs far less than a full decode
and a resize. The structures below are libwebp 1.x's decoder ABI (``WEBP_DECODER_ABI_VERSION``
0x0209); libwebp itself refuses an incompatible ABI in ``WebPInitDecoderConfigInternal``, and
anything unexpected (no bundled library, another major version, animation, a decode error)
returns None so that the caller decodes plainly with Pillow.
"""

import ctypes
import functools
from ctypes import POINTER, byref, c_char_p, c_int, c_size_t, c_uint32, c_void_p
from pathlib import Path

import PIL
from PIL import Image

ABI_VERSION = 0x0209  # the WEBP_DECODER_ABI_VERSION these structures follow (libwebp 1.x)
LIBRARY_GLOB = "libwebp-*.so*"  # manylinux wheels bundle it under pillow.libs/
MODE_RGB, MODE_RGBA = 0, 1  # WEBP_CSP_MODE


def _fields(ctype, names: str, *more) -> list:
    return [*((name, ctype) for name in names.split()), *more]


class _Features(ctypes.Structure):
    _fields_ = _fields(c_int, "width height has_alpha has_animation format", ("pad", c_uint32 * 5))


class _RGBA(ctypes.Structure):
    _fields_ = [("rgba", c_void_p), ("stride", c_int), ("size", c_size_t)]


class _YUVA(ctypes.Structure):  # only for the union's size
    _fields_ = _fields(c_void_p, "y u v a", *_fields(c_int, "ys us vs as"), *_fields(c_size_t, "yl ul vl al"))


class _Buffers(ctypes.Union):
    _fields_ = [("RGBA", _RGBA), ("YUVA", _YUVA)]


class _Output(ctypes.Structure):
    _fields_ = _fields(
        c_int,
        "colorspace width height is_external_memory",
        ("u", _Buffers),
        ("pad", c_uint32 * 4),
        ("private_memory", c_void_p),
    )


class _Options(ctypes.Structure):
    _fields_ = _fields(
        c_int,
        "bypass_filtering no_fancy_upsampling use_cropping crop_left crop_top crop_width crop_height"
        " use_scaling scaled_width scaled_height use_threads dithering_strength flip"
        " alpha_dithering_strength",
        ("pad", c_uint32 * 5),
    )


class _Config(ctypes.Structure):
    _fields_ = [("input", _Features), ("output", _Output), ("options", _Options)]


def decode(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """The still WebP in data decoded to size (RGB or RGBA), or None: decode it plainly then."""
    lib = library()
    config = _Config()
    if lib is None or not lib.WebPInitDecoderConfigInternal(byref(config), ABI_VERSION):
        return None
    if lib.WebPGetFeaturesInternal(data, len(data), byref(config.input), ABI_VERSION) != 0:
        return None
    if config.input.has_animation:
        return None
    mode = "RGBA" if config.input.has_alpha else "RGB"
    stride = size[0] * len(mode)
    pixels = ctypes.create_string_buffer(stride * size[1])
    options, output = config.options, config.output
    options.use_scaling, options.scaled_width, options.scaled_height = 1, size[0], size[1]
    output.colorspace = MODE_RGBA if mode == "RGBA" else MODE_RGB
    output.is_external_memory = 1
    rgba = output.u.RGBA
    rgba.rgba, rgba.stride, rgba.size = ctypes.addressof(pixels), stride, len(pixels)
    if lib.WebPDecode(data, len(data), byref(config)) != 0 or (output.width, output.height) != size:
        return None
    return Image.frombuffer(mode, size, pixels, "raw", mode, stride, 1)


@functools.cache
def library() -> ctypes.CDLL | None:
    """Pillow's own libwebp (already loaded by PIL._webp), when it is a 1.x with our ABI."""
    found = sorted((Path(PIL.__file__).parent.parent / "pillow.libs").glob(LIBRARY_GLOB))
    if not found:
        return None
    try:
        lib = ctypes.CDLL(str(found[0]))
        lib.WebPGetDecoderVersion.restype = c_int
        if lib.WebPGetDecoderVersion() >> 16 != 1:
            return None
        lib.WebPInitDecoderConfigInternal.argtypes = [POINTER(_Config), c_int]
        lib.WebPGetFeaturesInternal.argtypes = [c_char_p, c_size_t, POINTER(_Features), c_int]
        lib.WebPDecode.argtypes = [c_char_p, c_size_t, POINTER(_Config)]
    except (OSError, AttributeError):
        return None
    return lib
