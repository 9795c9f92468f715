"""POST /api/sign: the console's side of `resizer sign`, a signed URL from the key kept in SSM."""

from urllib.parse import parse_qs, urlsplit

from resizer_function.signing import signature
from tests.console.conftest import SIGNING_KEY, Browser


def test_a_signed_url_for_the_canonical_path_never_the_key(browser: Browser) -> None:
    reply = browser.post("/api/sign", {"path": "/100x/sample.jpg", "expires": "600"})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["path"] == "/100x/sample.jpg" and SIGNING_KEY not in reply.text
    query = parse_qs(urlsplit(found["url"]).query)
    assert query["expires"] == [str(found["expires"])]
    assert query["sig"] == [signature("/100x/sample.jpg", SIGNING_KEY, found["expires"])]


def test_a_bad_path_is_a_400_with_the_reason(browser: Browser) -> None:
    reply = browser.post("/api/sign", {"path": "no-size"})
    assert reply.status_code == 400 and "invalid path" in reply.text
