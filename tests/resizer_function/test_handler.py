"""The handler end to end against moto's in-process S3: misses, hits, every status, v1 and v2."""

import base64
import functools
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from resizer_function import handler as handler_module
from resizer_function import signing_key
from resizer_function.handler import handler
from resizer_function.signing import sign
from tests.resizer_function.images import decode, encoded, marked, oriented_jpeg

BUCKET = "images"
PUBLIC = "http://images.example"


class Context:
    aws_request_id = "req-1234"


@pytest.fixture
def s3(aws_env, monkeypatch):
    monkeypatch.setenv("BUCKET", BUCKET)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC + "/")
    handler_module.s3_client.cache_clear()
    signing_key.ssm_client.cache_clear()
    signing_key.load.cache_clear()
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="photo.jpg", Body=oriented_jpeg(marked(800, 600), 6))
        yield client
    handler_module.s3_client.cache_clear()
    signing_key.ssm_client.cache_clear()
    signing_key.load.cache_clear()


def use_key(monkeypatch, key: str, name: str = "/resizer/test/signing-key") -> None:
    """Signing on: the key in an SSM SecureString, the function told its name (as the template does)."""
    boto3.client("ssm").put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)
    monkeypatch.setenv("SIGNING_KEY_PARAMETER", name)


def v1(path: str, query=None, method="GET") -> dict:
    """A REST API (payload v1) proxy event: path keeps the client's encoding."""
    from urllib.parse import quote, unquote

    raw = quote(path, safe="/,")
    return {
        "resource": "/{proxy+}",
        "path": raw,
        "httpMethod": method,
        "headers": {"Host": "api.example"},
        "queryStringParameters": query,
        "pathParameters": {"proxy": unquote(raw).removeprefix("/")},
        "requestContext": {"stage": "prod", "requestId": "r1", "path": "/prod" + raw},
        "body": None,
        "isBase64Encoded": False,
    }


def v2(path: str, query=None) -> dict:
    """An HTTP API (payload v2) event on a named stage: rawPath is decoded and has the stage."""
    return {
        "version": "2.0",
        "routeKey": "GET /{proxy+}",
        "rawPath": "/live" + path,
        "rawQueryString": "",
        "queryStringParameters": query,
        "requestContext": {"stage": "live", "http": {"method": "GET", "path": "/live" + path}},
        "isBase64Encoded": False,
    }


def call(event):
    response = handler(event, Context())
    body = response.get("body") or ""
    return response, (json.loads(body) if response["statusCode"] >= 400 else None)


def test_miss_stores_the_result_and_redirects(s3, capsys):
    response, _ = call(v1("/300x200/photo.jpg"))
    assert response["statusCode"] == 302
    assert response["headers"] == {"Location": f"{PUBLIC}/300x200/photo.jpg", "Cache-Control": "no-store"}
    stored = s3.get_object(Bucket=BUCKET, Key="300x200/photo.jpg")
    assert stored["ContentType"] == "image/jpeg"
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    source_etag = s3.head_object(Bucket=BUCKET, Key="photo.jpg")["ETag"].strip('"')
    assert stored["Metadata"]["source-etag"] == source_etag
    assert decode(stored["Body"].read()).size == (300, 200)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["request_id"] == "req-1234" and line["status"] == 302
    assert line["path"] == "/300x200/photo.jpg" and line["source_bytes"] > 0
    assert line["source_pixels"] == 800 * 600 and line["output_bytes"] > 0
    assert set(line["ms"]) == {"fetch", "decode", "resize", "encode", "store", "total"}
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Resizer"
    assert {m["Name"] for m in directive["Metrics"]} >= {"ResizeMs", "SourceBytes", "OutputBytes"}
    assert all(isinstance(line[m["Name"]], (int, float)) for m in directive["Metrics"])


def test_second_request_redirects_without_touching_the_stored_object(s3):
    call(v1("/300x200/photo.jpg"))
    first = s3.head_object(Bucket=BUCKET, Key="300x200/photo.jpg")
    response, _ = call(v1("/300x200/photo.jpg"))
    assert response["statusCode"] == 302
    again = s3.head_object(Bucket=BUCKET, Key="300x200/photo.jpg")
    assert again["LastModified"] == first["LastModified"] and again["ETag"] == first["ETag"]


def test_an_original_at_the_target_key_is_never_overwritten(s3):
    s3.put_object(Bucket=BUCKET, Key="300x/photo.jpg", Body=b"an original that happens to live here")
    response, _ = call(v1("/300x/photo.jpg"))
    assert response["statusCode"] == 302
    body = s3.get_object(Bucket=BUCKET, Key="300x/photo.jpg")["Body"].read()
    assert body == b"an original that happens to live here"
    assert s3.get_object(Bucket=BUCKET, Key="photo.jpg")["Body"].read()[:2] == b"\xff\xd8"


def test_v2_event_with_a_stage_and_a_unicode_key(s3):
    s3.put_object(Bucket=BUCKET, Key="albums/été 2024/chat.png", Body=encoded(marked(90, 60), "PNG"))
    event = v2("/30x,webp/albums/été 2024/chat.png")
    response, _ = call(event)
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == f"{PUBLIC}/30x,webp/albums/%C3%A9t%C3%A9%202024/chat.png"
    stored = s3.get_object(Bucket=BUCKET, Key="30x,webp/albums/été 2024/chat.png")
    assert stored["ContentType"] == "image/webp" and decode(stored["Body"].read()).size == (30, 20)


def test_v1_event_without_path_parameters_is_decoded_once(s3):
    s3.put_object(Bucket=BUCKET, Key="a%41 b.png", Body=encoded(marked(40, 40), "PNG"))
    event = v1("/20x/a%41 b.png")
    event["pathParameters"] = None
    response, _ = call(event)
    assert response["statusCode"] == 302
    assert s3.head_object(Bucket=BUCKET, Key="20x/a%41 b.png")["ContentType"] == "image/png"


def test_inline_mode_returns_the_image(s3, monkeypatch):
    monkeypatch.setenv("RESPONSE_MODE", "inline")
    response, _ = call(v1("/120x,webp/photo.jpg"))
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert response["headers"]["Content-Type"] == "image/webp"
    assert decode(base64.b64decode(response["body"])).size == (120, 90)


def test_inline_mode_falls_back_to_a_redirect_over_the_response_limit(s3, monkeypatch):
    monkeypatch.setenv("RESPONSE_MODE", "inline")
    monkeypatch.setattr(handler_module, "INLINE_LIMIT", 100)
    response, _ = call(v1("/120x/photo.jpg"))
    assert response["statusCode"] == 302


def test_redirect_status_is_configurable(s3, monkeypatch):
    monkeypatch.setenv("REDIRECT_STATUS", "307")
    assert call(v1("/50x/photo.jpg"))[0]["statusCode"] == 307


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/300x200/missing.jpg", 404, "not_found"),
        ("/300x200,webp,q5/photo.jpg", 400, "non_canonical"),
        ("/300y200/photo.jpg", 400, "invalid_size"),
        ("/300x200/../photo.jpg", 400, "invalid_key"),
        ("/5000x/photo.jpg", 403, "size_not_allowed"),
        ("/300x200/notes.txt", 415, "unsupported_media_type"),
    ],
)
def test_error_statuses(s3, path, status, code, capsys):
    s3.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"hello")
    response, body = call(v1(path))
    assert response["statusCode"] == status
    assert body["error"] == code and body["message"]
    assert response["headers"]["Cache-Control"] == "public, max-age=60"
    assert "Traceback" not in response["body"]
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["ErrorCode"] == code and line["Errors"] == 1
    assert line["_aws"]["CloudWatchMetrics"][1]["Dimensions"] == [["FunctionName", "ErrorCode"]]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"photo.jpg", "notes.txt"}, "a refused request writes nothing"


def test_allowed_sizes(s3, monkeypatch):
    monkeypatch.setenv("ALLOWED_SIZES", "100x100, 300x200 ,x600")
    assert call(v1("/300x200/photo.jpg"))[0]["statusCode"] == 302
    assert call(v1("/x600/photo.jpg"))[0]["statusCode"] == 302
    response, body = call(v1("/301x200/photo.jpg"))
    assert response["statusCode"] == 403 and body["error"] == "size_not_allowed"


def test_source_over_max_source_bytes_is_413(s3, monkeypatch):
    monkeypatch.setenv("MAX_SOURCE_BYTES", "1000")
    response, body = call(v1("/100x/photo.jpg"))
    assert response["statusCode"] == 413 and body["error"] == "source_too_large"


def test_source_over_max_source_pixels_is_413(s3, monkeypatch):
    monkeypatch.setenv("MAX_SOURCE_PIXELS", "1000")
    response, body = call(v1("/100x/photo.jpg"))
    assert response["statusCode"] == 413 and body["error"] == "too_many_pixels"


def test_other_methods_are_405(s3):
    response, _ = call(v1("/100x/photo.jpg", method="POST"))
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "GET, HEAD"


def test_signed_urls(s3, monkeypatch):
    use_key(monkeypatch, "s3cret")
    response, body = call(v1("/100x/photo.jpg"))
    assert response["statusCode"] == 403 and body["error"] == "signature_required"
    forged = dict(q.split("=") for q in sign("/200x/photo.jpg", "s3cret").split("&"))
    assert call(v1("/100x/photo.jpg", forged))[1]["error"] == "invalid_signature"
    expired = dict(q.split("=") for q in sign("/100x/photo.jpg", "s3cret", expires=1000).split("&"))
    assert call(v1("/100x/photo.jpg", expired))[1]["error"] == "expired_signature"
    good = dict(q.split("=") for q in sign("/100x/photo.jpg", "s3cret", expires=4_000_000_000).split("&"))
    assert call(v1("/100x/photo.jpg", good))[0]["statusCode"] == 302
    assert "s3cret" not in json.dumps(call(v1("/100x/photo.jpg"))[0])


def test_a_bug_is_a_500_without_a_traceback_and_logged_with_the_request_id(s3, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(handler_module.imaging, "render", broken)
    response, body = call(v1("/100x/photo.jpg"))
    assert response["statusCode"] == 500 and body == {"error": "internal_error", "message": "internal error"}
    assert response["headers"]["Cache-Control"] == "no-store"
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["request_id"] == "req-1234" and line["level"] == "ERROR"
    assert "RuntimeError: boom" in line["traceback"]


def test_misconfiguration_is_a_logged_500(s3, monkeypatch, capsys):
    monkeypatch.setenv("REDIRECT_STATUS", "200")
    response, _ = call(v1("/100x/photo.jpg"))
    assert response["statusCode"] == 500
    assert "REDIRECT_STATUS" in capsys.readouterr().out


def test_no_state_leaks_between_invocations(s3, capsys):
    call(v1("/300x200/missing.jpg"))
    call(v1("/100x/photo.jpg"))
    first, second = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert "error" in first and "error" not in second and "ErrorCode" not in second
    assert len(second["_aws"]["CloudWatchMetrics"]) == 1


def test_the_s3_client_is_created_once_per_container(s3):
    call(v1("/10x/photo.jpg"))
    client = handler_module.s3_client()
    call(v1("/20x/photo.jpg"))
    assert handler_module.s3_client() is client


@pytest.mark.parametrize(
    "event",
    [
        {"requestContext": None, "path": "/10x/photo.jpg"},
        {"requestContext": "x", "path": "/10x/photo.jpg"},
        {"version": "2.0", "requestContext": {"http": None}, "rawPath": "/10x/photo.jpg"},
        {"pathParameters": ["x"], "path": "/10x/photo.jpg"},
        {"path": 5},
        {"version": "2.0", "rawPath": "/10x/a\ud800.jpg"},
        {},
        {"path": "/10x/photo.jpg", "queryStringParameters": ["sig"]},
    ],
)
def test_malformed_events_are_answered_not_crashed(s3, event, monkeypatch):
    use_key(monkeypatch, "k")
    response, body = call(event)
    assert 400 <= response["statusCode"] < 500, body


def test_a_truncated_png_is_415(s3):
    data = encoded(marked(400, 400), "PNG")
    s3.put_object(Bucket=BUCKET, Key="broken.png", Body=data[: len(data) // 2])
    response, body = call(v1("/10x/broken.png"))
    assert response["statusCode"] == 415 and body["error"] == "unsupported_media_type"


def test_the_log_line_is_a_valid_emf_record(s3, capsys):
    call(v1("/300x200/missing.jpg"))
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    meta = line["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == "Resizer"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(line[name], str) for name in dimension_set)
        for metric in directive["Metrics"]:
            assert isinstance(line[metric["Name"]], (int, float))
            assert metric["Unit"] in ("Milliseconds", "Bytes", "Count")


@pytest.mark.parametrize(
    "path, canonical",
    [
        ("/300x200,q80/photo.jpg", "/300x200/photo.jpg"),
        ("/300x200,jpeg/photo.jpg", "/300x200/photo.jpg"),
        ("/300x200,inside,q80/photo.jpg", "/300x200,inside/photo.jpg"),
        ("/300x200,q70,jpeg/photo.jpg", "/300x200,q70/photo.jpg"),
        ("/120x,q70/logo.png", "/120x/logo.png"),
        ("/120x,png/logo.png", "/120x/logo.png"),
    ],
)
def test_defaults_of_the_original_spelled_out_are_refused_before_rendering(s3, path, canonical):
    s3.put_object(Bucket=BUCKET, Key="logo.png", Body=encoded(marked(200, 100), "PNG"))
    response, body = call(v1(path))
    assert (response["statusCode"], body["error"], body["canonical"]) == (400, "non_canonical", canonical)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"photo.jpg", "logo.png"}, "nothing stored under the non-canonical path"
    assert call(v1(canonical))[0]["statusCode"] == 302


def test_a_format_other_than_the_originals_is_rendered(s3):
    assert call(v1("/300x200,png/photo.jpg"))[0]["statusCode"] == 302
    assert call(v1("/300x200,q60/photo.jpg"))[0]["statusCode"] == 302


def test_every_5xx_code_is_counted_as_a_server_error(s3, monkeypatch):
    from resizer_function.errors import SERVER_ERROR_CODES

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(handler_module.imaging, "render", broken)
    response, body = call(v1("/50x/photo.jpg"))
    assert response["statusCode"] >= 500 and body["error"] in SERVER_ERROR_CODES


class Conflicting:
    """An S3 client whose conditional PUT answers 409 ConditionalRequestConflict `conflicts` times."""

    def __init__(self, real, conflicts: int) -> None:
        self.real, self.conflicts, self.puts = real, conflicts, 0

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def put_object(self, **kwargs):
        self.puts += 1
        if self.puts <= self.conflicts:
            error = {"Code": "ConditionalRequestConflict", "Message": "A conflicting operation occurred."}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 409}}, "PutObject")
        return self.real.put_object(**kwargs)


def use(monkeypatch, client) -> None:
    """Make the handler use client as its container's S3 client."""
    cached = functools.cache(lambda: client)
    monkeypatch.setattr(handler_module, "s3_client", cached)


def test_a_409_conflict_is_retried_once_and_then_stored(s3, monkeypatch):
    conflicting = Conflicting(s3, conflicts=1)
    use(monkeypatch, conflicting)
    response = handler(v1("/120x90/photo.jpg"), Context())
    assert conflicting.puts == 2
    assert response["statusCode"] == 302  # stored: the redirect points at an object that exists
    assert s3.head_object(Bucket=BUCKET, Key="120x90/photo.jpg")["ContentLength"] > 0


def test_two_409_conflicts_answer_the_rendered_image_not_a_redirect(s3, monkeypatch):
    conflicting = Conflicting(s3, conflicts=2)
    use(monkeypatch, conflicting)
    response = handler(v1("/120x90/photo.jpg"), Context())
    assert conflicting.puts == 2
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert decode(base64.b64decode(response["body"])).size == (120, 90)
    assert "Location" not in response["headers"]
    with pytest.raises(ClientError, match=r"404|Not Found"):
        s3.head_object(Bucket=BUCKET, Key="120x90/photo.jpg")
