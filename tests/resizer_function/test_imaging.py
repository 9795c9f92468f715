"""The Pillow pipeline on generated images: geometry, orientation, modes, formats, bad input."""

import io
import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat, JpegImagePlugin

from resizer_function import imaging, jpeg_scaled, resample, webp_scaled
from resizer_function.errors import RequestRefused
from resizer_function.request import FITS, ResizeRequest
from tests.resizer_function.images import BLUE, RED, close, decode, encoded, marked, oriented_jpeg

LIMITS = {"max_pixels": 50_000_000, "max_dimension": 4096}


def render(data: bytes, width=None, height=None, **options) -> imaging.Rendered:
    return imaging.render(data, ResizeRequest(width, height, "k", **options), **LIMITS)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_before_the_geometry(orientation):
    data = oriented_jpeg(marked(800, 400), orientation)
    out = render(data, 200)
    im = decode(out.body)
    assert im.size == (200, 100) == (out.width, out.height)
    assert close(im.getpixel((5, 5)), RED), "top-left corner must stay top-left"
    assert close(im.getpixel((195, 95)), BLUE)
    assert close(im.getpixel((195, 5)), BLUE) and close(im.getpixel((5, 95)), BLUE)
    assert "exif" not in im.info and not im.getexif()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_cover_crops_the_centre_in_display_coordinates(orientation):
    display = Image.new("RGB", (900, 300), BLUE)
    display.paste(RED, (300, 0, 600, 300))  # the middle third is red
    display.paste((0, 255, 0), (300, 0, 330, 300))  # its left edge green
    out = decode(render(oriented_jpeg(display, orientation), 100, 100).body)
    assert out.size == (100, 100)
    assert close(out.getpixel((50, 50)), RED)
    assert close(out.getpixel((3, 50)), (0, 255, 0))
    assert close(out.getpixel((97, 50)), RED)


@pytest.mark.parametrize(
    "fit, expected",
    [
        ("cover", (300, 200)),
        ("fill", (300, 200)),
        ("contain", (300, 200)),
        ("inside", (267, 200)),
        ("outside", (300, 225)),
    ],
)
def test_fits(fit, expected):
    out = render(encoded(marked(800, 600), "PNG"), 300, 200, fit=None if fit == "cover" else fit)
    assert decode(out.body).size == expected


def test_contain_pads_transparent_for_alpha_formats_and_white_for_jpeg():
    src = encoded(Image.new("RGB", (400, 100), RED), "PNG")
    png = decode(render(src, 200, 200, fit="contain").body)
    assert png.mode == "RGBA" and png.getpixel((100, 5))[3] == 0 and png.getpixel((100, 100)) == (*RED, 255)
    jpeg = decode(render(src, 200, 200, fit="contain", format="jpeg").body)
    assert close(jpeg.getpixel((100, 5)), (255, 255, 255), 8) and close(jpeg.getpixel((100, 100)), RED)


@pytest.mark.parametrize("one_side", [(150, None), (None, 75)])
def test_one_side_keeps_the_aspect_ratio(one_side):
    out = decode(render(encoded(marked(600, 300), "PNG"), *one_side).body)
    assert out.size == (150, 75)


def test_upscaling_is_allowed_up_to_max_dimension():
    assert decode(render(encoded(marked(40, 20), "PNG"), 400).body).size == (400, 200)


def test_outside_fit_that_would_exceed_max_dimension_is_refused():
    with pytest.raises(RequestRefused) as refused:
        render(encoded(marked(10, 1000), "PNG"), 4000, 10, fit="outside")
    assert refused.value.status == 403


@pytest.mark.parametrize(
    "mode",
    ["RGB", "RGBA", "L", "LA", "P", "PA", "1", "CMYK", "I;16", "I", "F", "YCbCr"],
)
def test_every_source_mode_resizes_to_a_sane_output(mode):
    base = marked(64, 32).convert("RGBA")
    if mode == "P":
        im = base.convert("RGB").convert("P")
        im.info["transparency"] = im.getpixel((63, 31))  # blue becomes transparent
    elif mode == "I;16":
        im = Image.linear_gradient("L").resize((64, 32)).point(lambda v: v * 257, "I").convert("I;16")
    elif mode in ("I", "F"):
        im = Image.linear_gradient("L").resize((64, 32)).convert(mode)
        im = im.point(lambda v: v * 257) if mode == "I" else im
    else:
        im = base.convert(mode)
    fmt = "TIFF" if mode in ("I", "F", "CMYK", "YCbCr", "PA") else "PNG"
    if mode == "CMYK":
        fmt = "JPEG"
    out = render(encoded(im, fmt), 32)
    result = decode(out.body)
    assert result.size == (32, 16)
    assert result.mode in ("L", "LA", "RGB", "RGBA")
    if mode in ("I;16", "I"):  # 16-bit grey is scaled to 8 bits, not clipped
        top, bottom = result.getpixel((16, 1)), result.getpixel((16, 14))
        assert top < 40 and bottom > 200, (top, bottom)


def test_transparency_is_flattened_onto_white_only_when_the_output_has_no_alpha():
    im = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (0, 0, 50, 100))
    src = encoded(im, "PNG")
    png = decode(render(src, 50, 50).body)
    assert png.mode == "RGBA" and png.getpixel((45, 25))[3] == 0
    webp = decode(render(src, 50, 50, format="webp").body)
    assert webp.mode == "RGBA" and webp.getpixel((45, 25))[3] == 0
    jpeg = decode(render(src, 50, 50, format="jpeg").body)
    assert jpeg.mode == "RGB" and close(jpeg.getpixel((45, 25)), (255, 255, 255), 10)
    assert close(jpeg.getpixel((5, 25)), BLUE)


@pytest.mark.parametrize("out_format", imaging.output_formats())
def test_output_formats_and_content_types(out_format):
    out = render(encoded(marked(200, 100), "PNG"), 100, format=out_format)
    im = decode(out.body)
    assert im.format == out_format.upper()
    assert out.content_type == f"image/{out_format}"


@pytest.mark.parametrize(
    "fmt, expected", [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "png"), ("BMP", "jpeg")]
)
def test_default_output_format_follows_the_original(fmt, expected):
    assert render(encoded(marked(100, 100), fmt), 50).format == expected


def test_quality_changes_the_output():
    src = oriented_jpeg(marked(400, 400), 1)
    assert len(render(src, 300, quality=10).body) < len(render(src, 300, quality=95).body)


def test_metadata_is_stripped_but_a_matching_icc_profile_is_kept():
    p3 = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x8825] = {0x0001: "N", 0x0002: (51.0, 30.0, 0.0)}
    src = encoded(marked(400, 200), "JPEG", exif=exif.tobytes(), icc_profile=p3, comment=b"secret")
    for out_format in ("jpeg", "png", "webp"):
        out = decode(render(src, 100, format=out_format).body)
        assert out.info.get("icc_profile") == p3
        assert not out.getexif() and "exif" not in out.info
        assert "comment" not in out.info and "xmp" not in out.info


def test_cmyk_with_a_profile_is_converted_to_srgb_and_the_cmyk_profile_dropped():
    cmyk = Image.new("CMYK", (64, 64), (0, 255, 255, 0))  # red ink
    out = decode(render(encoded(cmyk, "JPEG"), 32, format="png").body)
    assert out.mode == "RGB" and "icc_profile" not in out.info
    assert close(out.getpixel((16, 16)), RED)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (60, 60), c) for c in (RED, BLUE, (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = decode(render(buffer.getvalue(), 30).body)
    assert out.format == "PNG" and out.size == (30, 30)
    assert close(out.getpixel((15, 15)), RED, 10)


def test_progressive_jpeg():
    src = encoded(marked(1600, 1200), "JPEG", progressive=True, quality=90)
    out = decode(render(src, 160).body)
    assert out.size == (160, 120) and close(out.getpixel((10, 10)), RED)


def test_large_jpeg_is_decoded_at_reduced_scale(monkeypatch):
    src = encoded(marked(3200, 2400), "JPEG")
    sizes = []
    load = ImageFile.ImageFile.load

    def spy(im):
        sizes.append(im.size)
        return load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    out = render(src, 150)
    assert decode(out.body).size == (150, 113)
    assert sizes[0] == (400, 300), "decoded at 1/8 scale: a shrink of 21 allows it"


def test_truncated_file_is_415():
    data = encoded(marked(400, 400), "JPEG")
    with pytest.raises(RequestRefused) as refused:
        render(data[: len(data) // 2], 100)
    assert refused.value.status == 415


@pytest.mark.parametrize(
    "data",
    [
        b"not an image at all",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        b"",
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_non_images_and_unsafe_decoders_are_415(data):
    with pytest.raises(RequestRefused) as refused:
        render(data, 100)
    assert refused.value.status == 415


def test_eps_is_refused_even_when_well_formed():
    src = encoded(marked(20, 20), "EPS") if _has_ghostscript() else b"%!PS-Adobe-3.0 EPSF-3.0\n"
    with pytest.raises(RequestRefused) as refused:
        render(src, 10)
    assert refused.value.status == 415


def _has_ghostscript() -> bool:
    import shutil

    return shutil.which("gs") is not None


def test_decompression_bomb_is_413_before_decoding(decompression_bomb):
    # A 20000 x 20000 PNG compresses to a few hundred KB; only its header is read.
    bomb = decompression_bomb
    assert len(bomb) < 1_000_000
    with pytest.raises(RequestRefused) as refused:
        imaging.render(bomb, ResizeRequest(100, 100, "k"), max_pixels=50_000_000, max_dimension=4096)
    assert refused.value.status == 413
    with pytest.raises(RequestRefused) as refused:  # and over MAX_SOURCE_PIXELS
        imaging.render(encoded(marked(300, 300), "PNG"), ResizeRequest(10, 10, "k"), 80_000, 4096)
    assert refused.value.status == 413


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF"])
def test_truncated_files_of_every_format_are_415(fmt):
    data = encoded(marked(400, 400).convert("RGB"), fmt)
    with pytest.raises(RequestRefused) as refused:
        render(data[: len(data) // 2], 100)
    assert refused.value.status == 415


def test_cmyk_with_a_mismatched_or_broken_profile_is_converted_plainly():
    cmyk = Image.new("CMYK", (64, 64), (0, 255, 255, 0))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, b"not a profile at all" * 10):
        out = decode(render(encoded(cmyk, "JPEG", icc_profile=icc), 32, format="png").body)
        assert out.mode == "RGB" and "icc_profile" not in out.info
        assert close(out.getpixel((16, 16)), RED)


def test_a_profile_of_another_colour_space_is_dropped():
    grey = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # not RGB
    out = decode(render(encoded(marked(100, 50), "PNG", icc_profile=grey), 50).body)
    assert "icc_profile" not in out.info


def test_lab_sources_are_converted_to_rgb():
    lab = Image.new("LAB", (40, 40), (50 * 255 // 100, 128, 128))  # L*=50, neutral grey
    out = decode(render(encoded(lab, "TIFF"), 20).body)
    assert out.mode == "RGB" and out.format == "JPEG"
    r, g, b = out.getpixel((10, 10))
    assert abs(r - g) < 6 and abs(g - b) < 6 and 100 < r < 140


def test_float_sources_in_0_to_1_are_scaled():
    im = Image.linear_gradient("L").resize((64, 32)).point(lambda v: v / 255, "F")
    out = decode(render(encoded(im, "TIFF"), 32).body)
    assert out.getpixel((16, 1)) < 40 and out.getpixel((16, 14)) > 200


@pytest.mark.parametrize("mode, key", [("RGB", BLUE), ("L", 0)])
def test_colour_key_transparency_is_kept_or_flattened(mode, key):
    im = Image.new(mode, (40, 40), key)
    im.paste(RED if mode == "RGB" else 200, (0, 0, 20, 40))
    src = encoded(im, "PNG", transparency=key)
    png = decode(render(src, 20).body)
    assert png.mode in ("RGBA", "LA") and png.getpixel((18, 10))[-1] == 0
    jpeg = decode(render(src, 20, format="jpeg").body)
    assert jpeg.getpixel((18, 10)) in ((255, 255, 255), 255) or close(jpeg.getpixel((18, 10)), (255,) * 3, 6)


def test_palette_transparency_is_flattened_onto_white_for_jpeg():
    im = Image.new("P", (40, 40), 0)
    im.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 20, 40))
    src = encoded(im, "PNG", transparency=0)
    out = decode(render(src, 20, format="jpeg").body)
    assert close(out.getpixel((18, 10)), (255, 255, 255), 8) and close(out.getpixel((2, 10)), RED, 8)


def test_camera_jpegs_opened_as_mpo_are_still_decoded_at_reduced_scale(monkeypatch):
    buffer = io.BytesIO()
    marked(3200, 2400).save(buffer, "MPO", save_all=True, append_images=[marked(320, 240)])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    sizes = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: (sizes.append(im.size), load(im))[1])
    out = render(buffer.getvalue(), 150)
    assert decode(out.body).size == (150, 113) and sizes[0] == (400, 300)


def _decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: (sizes.append(im.size), load(im))[1])
    return sizes


@pytest.mark.parametrize(
    "width, decoded",
    [
        (150, (400, 300)),  # shrink 21.3: 1/8 (sharp's rule)
        (600, (800, 600)),  # shrink 5.3: 1/4 (sharp's rule)
        (800, (1200, 900)),  # shrink exactly 4: sharp halves to 1/2; 3/8 leaves a 1.5x step
        (1000, (1200, 900)),  # shrink 3.2: 3/8 leaves exactly the 1.2x KERNEL_STEP
        (1100, (1600, 1200)),  # shrink 2.9: sharp decodes 1/1; 3/8 would leave 1.09x, 1/2 1.45x
        (1300, (1600, 1200)),  # shrink 2.46: 1/2 leaves 1.23x
        (1400, (3200, 2400)),  # shrink 2.29: 1/2 would leave 1.14x: the full decode
        (1600, (3200, 2400)),  # shrink exactly 2: 1/1
    ],
)
def test_jpeg_shrink_on_load_is_sharps_rule_with_three_eighths(monkeypatch, width, decoded):
    src = encoded(marked(3200, 2400), "JPEG")
    sizes = _decoded_sizes(monkeypatch)
    out = decode(render(src, width).body)
    assert sizes[0] == decoded and out.size == (width, int(width * 3 / 4 + 0.5))


def _photo_like(width: int, height: int) -> Image.Image:
    """Smooth gradients and edges: enough detail that a wrong scale or offset shows in the PSNR."""
    im = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    im.paste(marked(width // 2, height // 2), (width // 4, height // 4))
    return im


def _psnr(a: Image.Image, b: Image.Image) -> float:
    mse = ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).rms[0] ** 2
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_three_eighths_decode_gives_the_same_picture_as_a_full_decode(monkeypatch, orientation):
    display = _photo_like(1600, 1200)
    src = oriented_jpeg(display, orientation)
    sizes = _decoded_sizes(monkeypatch)
    out = decode(render(src, 400, 300, fit="cover").body)
    assert sizes[0] == ((600, 450) if orientation == 1 else (450, 600)), "3/8 of 1600x1200"
    reference = decode(src).transpose(Image.Transpose.ROTATE_270) if orientation == 6 else decode(src)
    assert _psnr(out, reference.resize((400, 300), Image.Resampling.LANCZOS)) > 35


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
@pytest.mark.parametrize("subsampling", [0, 2])  # 4:4:4 and 4:2:0
def test_three_eighths_decodes_every_jpeg_colour_space(monkeypatch, mode, subsampling):
    display = _photo_like(1600, 1200).convert(mode)
    src = encoded(display, "JPEG", quality=95, subsampling=subsampling)
    sizes = _decoded_sizes(monkeypatch)
    out = decode(render(src, 400).body)
    reference = decode(src).convert("RGB").resize((400, 300), Image.Resampling.LANCZOS)
    assert sizes[0] == (600, 450) and out.size == (400, 300)
    assert _psnr(out.convert("RGB"), reference) > 35


def test_three_eighths_falls_back_to_the_half_draft_when_pillows_tile_is_not_the_known_one(monkeypatch):
    opened = JpegImagePlugin.JpegImageFile._open

    def plain_tuple_tile(im):
        opened(im)
        im.tile = [tuple(im.tile[0])]  # what an older or newer Pillow might hold

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "_open", plain_tuple_tile)
    sizes = _decoded_sizes(monkeypatch)
    out = decode(render(encoded(_photo_like(3200, 2400), "JPEG"), 800).body)
    assert sizes[0] == (1600, 1200) and out.size == (800, 600)


def test_three_eighths_is_only_asked_of_libjpeg_turbo(monkeypatch):
    monkeypatch.setattr(jpeg_scaled, "turbo_scaling", lambda: False)
    sizes = _decoded_sizes(monkeypatch)
    out = decode(render(encoded(_photo_like(3200, 2400), "JPEG"), 800).body)
    assert sizes[0] == (1600, 1200) and out.size == (800, 600)
    assert jpeg_scaled.eighths((0, 0, 3200, 2400), (800, 600), three_eighths=False) == 4


def test_turbo_scaling_reads_pillows_libjpeg_turbo_version(monkeypatch):
    from PIL import features

    jpeg_scaled.turbo_scaling.cache_clear()
    try:
        monkeypatch.setattr(features, "check_feature", lambda name: name == "libjpeg_turbo")
        for version, expected in (("3.1.2", True), ("1.2.0", True), ("1.1.90", False), (None, False)):
            monkeypatch.setattr(features, "version_feature", lambda name, v=version: v)
            jpeg_scaled.turbo_scaling.cache_clear()
            assert jpeg_scaled.turbo_scaling() is expected, version
        monkeypatch.setattr(features, "check_feature", lambda name: False)
        jpeg_scaled.turbo_scaling.cache_clear()
        assert jpeg_scaled.turbo_scaling() is False
    finally:
        jpeg_scaled.turbo_scaling.cache_clear()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_off_centre_boxes_map_to_the_same_stored_pixels(orientation):
    stored = Image.effect_noise((60, 40), 100).convert("RGB")
    display = stored.transpose(imaging.TRANSPOSE[orientation]) if orientation in imaging.TRANSPOSE else stored
    box = (3, 5, 17, 12)  # deliberately off-centre, in display coordinates
    mapped = tuple(int(v) for v in imaging._to_stored(box, orientation, *display.size))
    from_stored = stored.crop(mapped)
    if orientation in imaging.TRANSPOSE:
        from_stored = from_stored.transpose(imaging.TRANSPOSE[orientation])
    assert from_stored.tobytes() == display.crop(box).tobytes()


def test_xmp_and_comments_never_reach_the_output():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>GPS</secret></x:xmpmeta>'
    src = encoded(marked(200, 100), "JPEG", xmp=xmp, comment=b"secret")
    assert Image.open(io.BytesIO(src)).info.get("xmp")
    for out_format in ("jpeg", "png", "webp"):
        body = render(src, 100, format=out_format).body
        assert b"secret" not in body and b"xmpmeta" not in body


def _expected_size(width: int, height: int, want_w, want_h, fit) -> tuple[int, int]:
    """The output size by the CSS/sharp rules, computed independently of imaging.fit."""

    def side(value: float) -> int:
        return max(1, int(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP)))

    if not want_w or not want_h:
        scale = want_w / width if want_w else want_h / height
        return (want_w or side(width * scale), want_h or side(height * scale))
    if fit in (None, "cover", "fill", "contain"):
        return (want_w, want_h)
    scale = (max if fit == "outside" else min)(want_w / width, want_h / height)
    return (side(width * scale), side(height * scale))


@settings(max_examples=200, deadline=None)
@example(110, 110, "PNG", 1, 300, 200, None)  # the reported 500: a crop box of -7e-15
@given(
    width=st.integers(1, 400),
    height=st.integers(1, 400),
    source=st.sampled_from(["PNG", "JPEG"]),
    orientation=st.integers(1, 8),
    want_w=st.one_of(st.none(), st.integers(1, 700)),
    want_h=st.one_of(st.none(), st.integers(1, 700)),
    fit=st.sampled_from([None, *FITS]),
)
def test_every_fit_gives_the_exact_size_and_never_raises(
    width, height, source, orientation, want_w, want_h, fit
):
    assume(want_w or want_h)
    display = Image.effect_noise((width, height), 60).convert("RGB")
    data = oriented_jpeg(display, orientation) if source == "JPEG" else encoded(display, "PNG")
    expected = _expected_size(width, height, want_w, want_h, fit)
    try:
        out = render(data, want_w, want_h, fit=fit)
    except RequestRefused as refused:  # only an output over the size limit may be refused
        assert refused.status == 403 and max(expected) > LIMITS["max_dimension"]
        return
    assert (out.width, out.height) == decode(out.body).size == expected


def _webp_source(alpha: bool = False) -> bytes:
    im = marked(1200, 800).convert("RGBA" if alpha else "RGB")
    if alpha:
        im.putalpha(Image.linear_gradient("L").resize(im.size))
    return encoded(im, "WEBP", quality=90)


@pytest.mark.parametrize("alpha", [False, True])
def test_webp_is_decoded_straight_to_the_output_scale_by_libwebp(monkeypatch, alpha):
    calls = []
    real = webp_scaled.decode
    monkeypatch.setattr(webp_scaled, "decode", lambda data, size: calls.append(size) or real(data, size))
    out = render(_webp_source(alpha), 300, fit="inside")
    im = decode(out.body)
    assert calls == [(600, 400)] and im.size == (300, 200) and im.mode == ("RGBA" if alpha else "RGB")
    assert close(im.getpixel((10, 10)), RED) and close(im.getpixel((290, 190)), BLUE)
    cover = decode(render(_webp_source(alpha), 100, 100).body)  # a crop box through the scaled decode
    assert (
        cover.size == (100, 100)
        and close(cover.getpixel((5, 5)), RED)
        and close(cover.getpixel((95, 95)), BLUE)
    )


@pytest.mark.parametrize("break_it", ["abi", "library"])
def test_webp_falls_back_to_the_plain_decode_when_libwebp_cannot_be_used(monkeypatch, break_it):
    expected = decode(render(_webp_source(), 300, fit="inside").body)
    if break_it == "abi":  # a decoder ABI this module does not know: libwebp itself refuses it
        monkeypatch.setattr(webp_scaled, "ABI_VERSION", 0x0309)
    else:  # no bundled libwebp (a Pillow built against the system's)
        monkeypatch.setattr(webp_scaled, "LIBRARY_GLOB", "libwebp-not-here-*.so")
        webp_scaled.library.cache_clear()
    try:
        assert webp_scaled.decode(_webp_source(), (300, 200)) is None
        out = decode(render(_webp_source(), 300, fit="inside").body)
    finally:
        webp_scaled.library.cache_clear()
    assert out.size == expected.size == (300, 200) and close(out.getpixel((10, 10)), RED)


def test_animated_webp_gives_its_first_frame_through_the_plain_decode():
    frames = [Image.new("RGB", (400, 200), colour) for colour in (RED, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    assert webp_scaled.decode(buffer.getvalue(), (100, 50)) is None
    out = decode(render(buffer.getvalue(), 100).body)
    assert out.size == (100, 50) and close(out.getpixel((50, 25)), RED)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBa", "RGBA"])
@pytest.mark.parametrize(
    "size, box",
    [
        ((333, 251), (0, 0, 900, 700)),
        ((120, 77), (13.4, 7.7, 871.1, 650.3)),
        ((450, 349), (0, 0, 900, 700)),
        ((540, 421), (0, 0, 900, 700)),
    ],
)
def test_two_thread_strip_resize_matches_one_thread(monkeypatch, mode, size, box):
    im = Image.merge("RGBA", [Image.effect_noise((900, 700), 90 + 10 * i) for i in range(4)]).convert(mode)
    monkeypatch.setattr(resample, "threads", lambda: 1)
    one = resample.resize(im, size, box)
    monkeypatch.setattr(resample, "threads", lambda: 2)
    two = resample.resize(im, size, box)
    assert one.mode == two.mode == mode and one.size == two.size == size
    # The same filter centres up to float rounding (box_top + first * step + (i + 0.5) * step):
    # a rounded filter weight may flip, so a few samples differ by one level, never more.
    if mode == "RGBA":  # resampled premultiplied (RGBa, above); unpremultiplying scales a 1 up
        one, two = one.getchannel("A"), two.getchannel("A")
    diffs = [abs(x - y) for x, y in zip(one.tobytes(), two.tobytes(), strict=True) if x != y]
    assert max(diffs, default=0) <= 1 and len(diffs) <= len(one.tobytes()) // 500


@pytest.mark.parametrize(
    "memory, cpus, expected", [("1024", 2, 1), ("1769", 2, 1), ("3008", 2, 2), (None, 1, 1)]
)
def test_a_second_thread_only_with_more_than_one_vcpus_worth_of_memory(monkeypatch, memory, cpus, expected):
    if memory:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
    else:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    monkeypatch.setattr(resample.os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    resample.threads.cache_clear()
    try:
        assert resample.threads() == expected
    finally:
        resample.threads.cache_clear()


def test_a_file_that_is_no_image_is_a_415_that_names_the_formats_and_nothing_internal() -> None:
    with pytest.raises(RequestRefused) as refused:
        imaging.open_image(b'<svg xmlns="http://www.w3.org/2000/svg"/>', 10**8)
    assert refused.value.status == 415
    assert "JPEG, PNG, WebP" in refused.value.message
    assert "0x" not in refused.value.message and "BytesIO" not in refused.value.message


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L"])
def test_png_output_is_lossless_with_run_length_compression(mode):
    im = _photo_like(120, 90).convert(mode)
    if mode in ("RGBA", "LA"):
        im.putalpha(Image.linear_gradient("L").resize(im.size))
    out = decode(imaging.encode(im.copy(), "png", None))
    assert out.mode == mode and out.tobytes() == im.tobytes()


def test_jpeg_frame_finds_the_sof_marker_past_app_segments():
    baseline = oriented_jpeg(marked(64, 48), 6)  # an EXIF APP1 segment before the frame
    progressive = encoded(marked(64, 48), "JPEG", progressive=True)
    assert jpeg_scaled.frame(baseline) == 0xC0 and jpeg_scaled.frame(progressive) == 0xC2
    assert jpeg_scaled.frame(b"\xff\xd8\xff") is None and jpeg_scaled.frame(b"") is None


def test_a_lossless_jpeg_frame_is_never_decoded_at_a_reduced_scale(monkeypatch):
    """libjpeg's lossless mode ignores the scale: a draft would get rows wider than its buffer."""
    src = bytearray(encoded(marked(1600, 1200), "JPEG"))
    sof = src.index(b"\xff\xc0")
    src[sof + 1] = 0xC3  # now a lossless frame header (its data is not, so the decode may fail)
    assert jpeg_scaled.frame(bytes(src)) == 0xC3
    sizes = _decoded_sizes(monkeypatch)
    try:
        render(bytes(src), 150)
    except RequestRefused as refused:
        assert refused.status == 415
    assert sizes[0] == (1600, 1200), "no draft for a lossless frame"
