"""A generated, photo-like sample image for a fresh local cloud (no binary sample in the repo).

About 12 MP: a sky-to-ground gradient, soft hills, a sun, fine noise for texture (so it
compresses like a camera photo), and an EXIF block with an orientation tag, saved as JPEG.
"""

import io

from PIL import Image, ImageChops, ImageDraw, ImageFilter

WIDTH, HEIGHT = 4000, 3000


def photo(width: int = WIDTH, height: int = HEIGHT, seed_sigma: int = 18) -> Image.Image:
    sky = Image.linear_gradient("L").resize((width, height))
    im = Image.merge(
        "RGB",
        (
            sky.point(lambda v: 70 + v // 3),
            sky.point(lambda v: 120 + v // 4),
            sky.point(lambda v: 230 - v // 5),
        ),
    )
    draw = ImageDraw.Draw(im)
    draw.ellipse((width * 0.68, height * 0.12, width * 0.82, height * 0.31), fill=(255, 214, 120))
    for i, (shade, top) in enumerate(((60, 0.55), (45, 0.63), (30, 0.74))):
        points = [
            (x, height * (top + 0.05 * ((x * (i + 2)) % 997) / 997)) for x in range(0, width + 200, 200)
        ]
        draw.polygon([(0, height), *points, (width, height)], fill=(shade, 90 + i * 25, shade))
    im = im.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((width, height), seed_sigma).convert("RGB")
    return ImageChops.add(im, noise, scale=1.0, offset=-128)


def jpeg(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The sample as JPEG bytes (quality 90, EXIF orientation 1)."""
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "resizer sample"
    buffer = io.BytesIO()
    photo(width, height).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()
