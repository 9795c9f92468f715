"""The handler behind CloudFront (DELIVERY=cdn): the image itself on a miss, 307 when too big."""

import base64
import json

import pytest

from resizer_function import handler as handler_module
from resizer_function.settings import Settings
from tests.resizer_function.images import decode
from tests.resizer_function.test_handler import BUCKET, call, s3, v1  # noqa: F401 (s3 is a fixture)

CDN = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture
def cdn(s3, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DELIVERY", "cdn")
    monkeypatch.setenv("PUBLIC_URL", CDN)
    monkeypatch.setenv("REDIRECT_STATUS", "302")  # website-only: cdn ignores it
    return s3


def test_a_miss_is_answered_with_the_image_cached_for_a_year_and_stored(cdn):
    response, _ = call(v1("/300x200/photo.jpg"))
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert response["headers"] == {
        "Content-Type": "image/jpeg",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    body = base64.b64decode(response["body"])
    assert decode(body).size == (300, 200)
    stored = cdn.get_object(Bucket=BUCKET, Key="300x200/photo.jpg")
    assert stored["Body"].read() == body, "what CloudFront caches is what S3 serves next"
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"


def test_an_output_over_the_response_limit_is_stored_and_answered_307_to_the_same_cdn_url(cdn, monkeypatch):
    monkeypatch.setattr(handler_module, "INLINE_LIMIT", 100)
    response, _ = call(v1("/120x,webp/photo.jpg"))
    assert response["statusCode"] == 307
    assert response["headers"] == {"Location": f"{CDN}/120x,webp/photo.jpg", "Cache-Control": "no-store"}
    assert cdn.head_object(Bucket=BUCKET, Key="120x,webp/photo.jpg")["ContentType"] == "image/webp"


def test_errors_keep_their_short_cache_lifetime(cdn):
    response, body = call(v1("/300x200/missing.jpg"))
    assert response["statusCode"] == 404 and body["error"] == "not_found"
    assert response["headers"]["Cache-Control"] == "public, max-age=60"


def test_response_mode_and_redirect_status_do_not_change_cdn_answers(cdn, monkeypatch):
    monkeypatch.setenv("RESPONSE_MODE", "redirect")
    response, _ = call(v1("/64x/photo.jpg"))
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True


def test_delivery_is_checked():
    assert Settings.from_env({"BUCKET": "b"}).delivery == "website"
    assert Settings.from_env({"BUCKET": "b", "DELIVERY": " CDN "}).delivery == "cdn"
    with pytest.raises(ValueError, match="DELIVERY must be website or cdn"):
        Settings.from_env({"BUCKET": "b", "DELIVERY": "s3"})


def test_a_bad_delivery_is_a_logged_500(cdn, monkeypatch, capsys):
    monkeypatch.setenv("DELIVERY", "edge")
    response, body = call(v1("/64x/photo.jpg"))
    assert response["statusCode"] == 500 and body == {"error": "internal_error", "message": "internal error"}
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "DELIVERY" in line["exception"]
