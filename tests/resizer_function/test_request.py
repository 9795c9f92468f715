"""The request grammar: canonical round trips, rejections, and what each rejection says."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resizer_function.errors import RequestRefused
from resizer_function.request import DEFAULT_QUALITY, FITS, FORMATS, ResizeRequest, parse_path

sides = st.integers(min_value=1, max_value=999_999)
keys = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/"), min_size=1, max_size=12
    ).filter(lambda s: s not in (".", "..")),
    min_size=1,
    max_size=4,
).map("/".join)


@st.composite
def requests(draw):
    sides_given = draw(st.sampled_from(["both", "width", "height"]))
    w = draw(sides) if sides_given in ("both", "width") else None
    h = draw(sides) if sides_given in ("both", "height") else None
    fit = draw(st.sampled_from([None, *FITS[1:]])) if w and h else None
    fmt = draw(st.sampled_from([None, *FORMATS]))
    quality = None if fmt == "png" else draw(st.one_of(st.none(), st.integers(1, 100)))
    if quality == DEFAULT_QUALITY.get(fmt):  # the default of an explicit format is not spelled out
        quality = None
    key = draw(keys)
    return ResizeRequest(w, h, key, fit=fit, quality=quality, format=fmt)


@given(requests())
def test_canonical_paths_round_trip(request):
    try:
        parsed = parse_path(request.path)
    except RequestRefused as exc:  # only a key that looks like a resized path may be refused
        assert exc.code == "invalid_key", exc.message
        return
    assert parsed == request
    assert parsed.path == request.path


@given(requests(), st.permutations([0, 1, 2]))
def test_any_other_option_order_names_the_canonical_path(request, order):
    parts = request.spec.split(",")
    options = parts[1:]
    shuffled = [options[i] for i in order if i < len(options)]
    if shuffled == options:
        return
    path = f"/{','.join([parts[0], *shuffled])}/photo.jpg"
    with pytest.raises(RequestRefused) as refused:
        parse_path(path)
    canonical = f"/{request.spec}/photo.jpg"
    assert refused.value.status == 400
    assert refused.value.extra["canonical"] == canonical
    assert canonical in refused.value.message


@given(st.text(max_size=40))
def test_arbitrary_paths_parse_or_are_refused_with_400(path):
    try:
        request = parse_path(path)
    except RequestRefused as exc:
        assert exc.status == 400 and exc.message
    else:
        assert request.path == "/" + path.removeprefix("/")


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/100x100/test_image.jpg", ResizeRequest(100, 100, "test_image.jpg")),
        ("/300x/a.png", ResizeRequest(300, None, "a.png")),
        ("/x600/a.png", ResizeRequest(None, 600, "a.png")),
        (
            "/300x200,inside,q70,webp/albums/2024/cat.jpg",
            ResizeRequest(300, 200, "albums/2024/cat.jpg", fit="inside", quality=70, format="webp"),
        ),
        ("/300x200,png/é t/ü.png", ResizeRequest(300, 200, "é t/ü.png", format="png")),
    ],
)
def test_examples(path, expected):
    assert parse_path(path) == expected


@pytest.mark.parametrize(
    "path, canonical",
    [
        ("/300x200,cover/a.jpg", "/300x200/a.jpg"),
        ("/300x,inside/a.jpg", "/300x/a.jpg"),
        ("/300x200,webp,q70/a.jpg", "/300x200,q70,webp/a.jpg"),
        ("/300x200,q70,inside/a.jpg", "/300x200,inside,q70/a.jpg"),
        ("/300X200,WEBP/a.jpg", "/300x200,webp/a.jpg"),
        ("/0300x200/a.jpg", "/300x200/a.jpg"),
        ("/300x200,q070/a.jpg", "/300x200,q70/a.jpg"),
        ("/300x200,jpg/a.jpg", "/300x200,jpeg/a.jpg"),
    ],
)
def test_non_canonical_spellings_name_the_canonical_path(path, canonical):
    with pytest.raises(RequestRefused) as refused:
        parse_path(path)
    assert (refused.value.status, refused.value.code) == (400, "non_canonical")
    assert refused.value.extra["canonical"] == canonical


@pytest.mark.parametrize(
    "path, code",
    [
        ("/300x200/", "invalid_path"),
        ("/300x200", "invalid_path"),
        ("/", "invalid_path"),
        ("/300y200/a.jpg", "invalid_size"),
        ("/x/a.jpg", "invalid_size"),
        ("/0x200/a.jpg", "invalid_size"),
        ("/-1x200/a.jpg", "invalid_size"),
        ("/1234567x2/a.jpg", "invalid_size"),
        ("/300x200,q0/a.jpg", "invalid_option"),
        ("/300x200,q101/a.jpg", "invalid_option"),
        ("/300x200,blur/a.jpg", "invalid_option"),
        ("/300x200,inside,contain/a.jpg", "invalid_option"),
        ("/300x200,q5,q6/a.jpg", "invalid_option"),
        ("/300x200,q50,png/a.png", "invalid_option"),
        ("/300x200/../secret.jpg", "invalid_key"),
        ("/300x200/a/../../b.jpg", "invalid_key"),
        ("/300x200/./a.jpg", "invalid_key"),
        ("/300x200/a\x00.jpg", "invalid_key"),
        ("/300x200/a\nb.jpg", "invalid_key"),
        ("/300x200/a\x7f.jpg", "invalid_key"),
        ("/100x100/300x200/a.jpg", "invalid_key"),
        ("/100x100/300x200,webp/a.jpg", "invalid_key"),
        ("/100x100/" + "k" * 1020, "invalid_key"),
    ],
)
def test_rejections(path, code):
    with pytest.raises(RequestRefused) as refused:
        parse_path(path)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_url_path_percent_encodes_the_key():
    request = parse_path("/300x200/my photos/ü#1?.jpg")
    assert request.url_path == "/300x200/my%20photos/%C3%BC%231%3F.jpg"


@pytest.mark.parametrize(
    "path, canonical",
    [
        ("/300x200,q80,webp/a.jpg", "/300x200,webp/a.jpg"),
        ("/300x200,q80,jpeg/a.jpg", "/300x200,jpeg/a.jpg"),
        ("/300x200,q60,avif/a.jpg", "/300x200,avif/a.jpg"),
    ],
)
def test_the_default_quality_of_an_explicit_format_is_left_out(path, canonical):
    with pytest.raises(RequestRefused) as refused:
        parse_path(path)
    assert refused.value.extra["canonical"] == canonical


def test_lone_surrogates_are_refused():
    with pytest.raises(RequestRefused) as refused:
        parse_path("/10x/a\ud800.jpg")
    assert refused.value.code == "invalid_key"


def test_plus_is_percent_encoded_because_s3_reads_it_as_a_space():
    assert parse_path("/10x/a+b.jpg").url_path == "/10x/a%2Bb.jpg"


# --- defaults that depend on the original: its format and that format's quality --------------------

source_formats = st.sampled_from(FORMATS)


def _output(request: ResizeRequest, source_format: str) -> tuple:
    """What a request renders from an original whose default output is source_format."""
    fmt = request.format or source_format
    quality = request.quality or DEFAULT_QUALITY.get(fmt) if fmt in DEFAULT_QUALITY else None
    return (request.width, request.height, request.effective_fit, fmt, quality, request.key)


@st.composite
def spelled_requests(draw):
    """Valid requests as the parser returns them, defaults of some original possibly spelled out."""
    request = draw(requests())
    fmt = draw(st.sampled_from([None, *FORMATS]))
    quality = None if fmt == "png" else draw(st.one_of(st.none(), st.integers(1, 100)))
    return ResizeRequest(request.width, request.height, request.key, request.fit, quality, fmt)


@given(spelled_requests(), source_formats)
def test_for_source_gives_the_one_shortest_spelling_of_the_same_output(request, source_format):
    canonical = request.for_source(source_format)
    assert _output(canonical, source_format) == _output(request, source_format), "same pixels, same bytes"
    assert canonical.format != source_format, "the original's own format is left out"
    fmt = canonical.format or source_format
    assert canonical.quality is None or (fmt in DEFAULT_QUALITY and canonical.quality != DEFAULT_QUALITY[fmt])
    assert canonical.for_source(source_format) == canonical, "canonical is a fixed point"


@given(spelled_requests(), spelled_requests(), source_formats)
def test_two_spellings_of_one_output_have_one_canonical_path(a, b, source_format):
    b = ResizeRequest(a.width, a.height, a.key, a.fit, b.quality, b.format)
    if _output(a, source_format) == _output(b, source_format):
        assert a.for_source(source_format).path == b.for_source(source_format).path


@pytest.mark.parametrize(
    "path, source_format, canonical",
    [
        ("/300x200,q80/a.jpg", "jpeg", "/300x200/a.jpg"),
        ("/300x200,jpeg/a.jpg", "jpeg", "/300x200/a.jpg"),
        ("/300x200,webp/a.webp", "webp", "/300x200/a.webp"),
        ("/300x200,q80/a.webp", "webp", "/300x200/a.webp"),
        ("/300x200,q60/a.avif", "avif", "/300x200/a.avif"),
        ("/300x200,png/a.gif", "png", "/300x200/a.gif"),
        ("/300x200,q70/a.png", "png", "/300x200/a.png"),  # PNG output has no quality
        ("/300x200,q70,jpeg/a.jpg", "jpeg", "/300x200,q70/a.jpg"),
        ("/300x200,q60/a.jpg", "avif", "/300x200/a.jpg"),  # an AVIF named .jpg: AVIF's default
    ],
)
def test_defaults_of_the_original_are_non_canonical(path, source_format, canonical):
    assert parse_path(path).for_source(source_format).path == canonical


@pytest.mark.parametrize(
    "path, source_format",
    [("/300x200,q80/a.avif", "avif"), ("/300x200,jpeg/a.png", "png"), ("/300x200,q60/a.jpg", "jpeg")],
)
def test_what_differs_from_the_original_stays(path, source_format):
    request = parse_path(path)
    assert request.for_source(source_format) == request
