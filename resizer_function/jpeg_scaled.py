"""A JPEG decoded at the smallest useful DCT scale: 1/8, 1/4, 3/8 (libjpeg-turbo) or 1/2 (``draft``).

sharp's shrink-on-load rule, refined where it leaves time on the table: libjpeg scales in the
inverse DCT, so a 12 MP photo for a 1200 px output decodes at 3/8 (1500x1125) instead of 1/2, and
the LANCZOS step that follows costs about a third less. Pillow's ``draft()`` offers only 1/2, 1/4
and 1/8; 3/8 is the same tile, size and ``decoderconfig`` that ``draft()`` sets, only when the
tile has the shape it was written for and the decoder is libjpeg-turbo (else ``draft()`` at 1/2).
"""

import functools
import re

from PIL import ImageFile, JpegImagePlugin, features

# Frames libjpeg scales while decoding: DCT, sequential or progressive, Huffman or arithmetic. Not
# lossless (0xC3, 0xCB), whose decoder ignores scale_denom (its rows would outgrow the buffer
# Pillow sized for the draft), nor hierarchical ones, which libjpeg does not decode at all.
DCT_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC9, 0xCA})
KERNEL_STEP = 1.2  # the least LANCZOS step a JPEG decoded at 3/8 or 1/2 (not sharp's rule) leaves


def draft(im: JpegImagePlugin.JpegImageFile, data: bytes, box, size: tuple[int, int]) -> float:
    """Set im to decode at the scale for box -> size (not yet decoded); the factor it will have."""
    if frame(data) not in DCT_FRAMES:
        return 1.0
    scale = eighths(box, size, three_eighths=turbo_scaling())
    if scale == 3 and not _draft_three_eighths(im):
        scale = 4  # Pillow's tile is not the one this was written for: its own draft at 1/2
    if scale in (1, 2, 4) and not im.draft(None, (im.width * scale // 8, im.height * scale // 8)):
        scale = 8  # a second draft, or not one tile
    return scale / 8


def sharp_scale(box, size: tuple[int, int]) -> int:
    """sharp's shrink-on-load rule: the largest of 8, 4, 2 within the shrink, halved when the
    shrink's integer part equals it (libjpeg's rounding), so a kernel step always follows."""
    shrink = min((box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1])
    scale = next((s for s in (8, 4, 2) if shrink >= s), 1)
    return scale // 2 if scale > 1 and int(shrink) == scale else scale


def eighths(box, size: tuple[int, int], three_eighths: bool = True) -> int:
    """The DCT scale in eighths (8, 4, 3, 2 or 1) to decode a JPEG at: sharp's rule, except that
    where it picks 1/2 or 1/1, 3/8 (then 4/8) is taken when it still leaves a LANCZOS step of at
    least KERNEL_STEP. Measured on 12 and 24 MP photos (luma PSNR after the JPEG encode, against a
    full-decode LANCZOS): 3/8 at >= 1.2x is within 0.06 dB of 1/2, and 1/2 instead of sharp's full
    decode (shrink 2.4-3) loses 0.17-0.28 dB for half the time. 1/4 and 1/8 keep sharp's rule:
    they lose 0.5-2 dB when the step left is under ~1.25x."""
    shrink = min((box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1])
    sharps = 8 // sharp_scale(box, size)
    for smaller in (3, 4) if three_eighths else (4,):
        if smaller < sharps and shrink * smaller / 8 >= KERNEL_STEP:
            return smaller
    return sharps


def frame(data: bytes) -> int | None:
    """The first frame's SOFn marker (0xC0 to 0xCF), walking the segments from SOI; None if none."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn, SOI: no length
            i += 2
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # not DHT, JPG, DAC
            return marker
        else:
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


@functools.cache
def turbo_scaling() -> bool:
    """Whether Pillow's JPEG decoder is libjpeg-turbo >= 1.2, whose jpeg_calc_output_dimensions
    turns Pillow's 1/3 (scale_num 1, scale_denom 3) into 3/8: plain libjpeg would give 1/2, wider
    than the buffer Pillow allocates."""
    version = features.version_feature("libjpeg_turbo") if features.check_feature("libjpeg_turbo") else None
    parts = tuple(int(p) for p in re.findall(r"\d+", version or "")[:2])
    return len(parts) == 2 and parts >= (1, 2)


def _draft_three_eighths(im: JpegImagePlugin.JpegImageFile) -> bool:
    """What draft() does for 1/2, 1/4 and 1/8, for 3/8: Pillow hands its draft scale to libjpeg as
    scale_denom (with scale_num 1) and sizes the image as the ceiling of width * 3 / 8, which is
    libjpeg-turbo's output size. False, untouched, when the tile is not Pillow's JPEG tile."""
    tile = im.tile[0] if len(im.tile) == 1 else None
    if (
        im.decoderconfig
        or not isinstance(tile, ImageFile._Tile)
        or tile.codec_name != "jpeg"
        or tuple(tile.extents or ()) != (0, 0, *im.size)
        or not isinstance(tile.args, tuple)
    ):
        return False
    size = (-(-im.width * 3 // 8), -(-im.height * 3 // 8))
    im.tile = [tile._replace(extents=(0, 0, *size))]
    im._size = size
    im.decoderconfig = (3, 0)
    return True
