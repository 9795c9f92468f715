"""The image formats the function accepts as originals: one list for the function and the tools.

Names are Pillow's format names (what ``Image.open(..., formats=...)`` takes and ``im.format``
says); camera JPEGs that carry a second picture open as ``MPO`` through the JPEG decoder.
"""

from PIL import features

# Pillow format name -> the Content-Type an original of that format is stored with.
SOURCE_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "AVIF": "image/avif",
}
# The decoders the function opens originals with (AVIF only when this Pillow build has it).
DECODERS = ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP"] + (["AVIF"] if features.check("avif") else [])
# How people name them, for messages: "JPEG, PNG, WebP, GIF, TIFF, BMP or AVIF".
NAMES = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WebP",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "AVIF": "AVIF",
}


def described() -> str:
    """The accepted formats in words, e.g. 'JPEG, PNG, WebP, GIF, TIFF, BMP or AVIF'."""
    names = [NAMES.get(d, d) for d in DECODERS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def content_types() -> list[str]:
    """The Content-Types of the accepted formats (for an upload form's accept attribute)."""
    return sorted({SOURCE_TYPES[d] for d in DECODERS})
