"""Test images made on the fly: marked corners, every mode, EXIF orientations, odd files."""

import io

from PIL import Image

RED, BLUE = (255, 0, 0), (0, 0, 255)
# The stored -> display operation for each EXIF orientation, and its inverse (display -> stored).
INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def marked(width: int, height: int) -> Image.Image:
    """Blue, with a red block in the top-left quarter: where 'up-left' is after any transform."""
    im = Image.new("RGB", (width, height), BLUE)
    im.paste(RED, (0, 0, width // 2, height // 2))
    return im


def encoded(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def oriented_jpeg(display: Image.Image, orientation: int, **options) -> bytes:
    """A JPEG whose stored pixels, shown with its EXIF orientation, look like display."""
    stored = display.transpose(INVERSE[orientation]) if orientation in INVERSE else display
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {0x0001: "N", 0x0002: (51.0, 30.0, 0.0)}  # a GPS block that must not survive
    return encoded(stored, "JPEG", exif=exif.tobytes(), quality=95, **options)


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def close(pixel, colour, tolerance: int = 60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=False))
