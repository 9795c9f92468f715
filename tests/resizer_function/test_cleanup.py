"""The cleanup handler against moto's in-process S3: derived images follow their originals.

Sizes are rendered by the real resize handler; the originals are replaced and deleted with plain
boto3 calls; the cleanup gets the EventBridge events S3 sends (AWS's documented shape).
"""

import functools
import http.server
import threading

import boto3
import pytest
from moto import mock_aws

from resizer_function import cleanup
from resizer_function import handler as resize_module
from tests.resizer_function.images import encoded, marked

BUCKET = "images"
CLIENT = cleanup.s3_client  # the cached factory (tests replace the module's name)


class Context:
    aws_request_id = "req-cleanup"


@pytest.fixture
def s3(aws_env, monkeypatch):
    monkeypatch.delenv("DISTRIBUTION_ID", raising=False)
    monkeypatch.setenv("BUCKET", BUCKET)
    monkeypatch.setenv("DELIVERY", "cdn")
    resize_module.s3_client.cache_clear()
    CLIENT.cache_clear()
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client
    resize_module.s3_client.cache_clear()
    CLIENT.cache_clear()


def render(path: str) -> int:
    event = {
        "rawPath": path,
        "version": "2.0",
        "requestContext": {"http": {"method": "GET"}, "stage": "$default"},
    }
    return resize_module.handler(event, Context())["statusCode"]


def event(detail_type: str, key: str, bucket: str = BUCKET, etag: str = "") -> dict:
    obj = {"key": key, "sequencer": "617f08299329d189"}
    if detail_type == "Object Created":
        obj.update(size=5, etag=etag or "b1946ac92492d2347c6235b4d2611184")
    detail = {"version": "0", "bucket": {"name": bucket}, "object": obj, "reason": "PutObject"}
    if detail_type == "Object Deleted":
        detail.update(reason="DeleteObject", **{"deletion-type": "Permanently Deleted"})
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": detail,
    }


def keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@functools.cache
def picture(colour: str) -> bytes:
    from PIL import Image

    return encoded(Image.new("RGB", (400, 300), colour), "JPEG")


def test_rendered_sizes_are_tagged_for_the_lifecycle_rule(s3):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=encoded(marked(400, 300), "JPEG"))
    assert render("/200x/cat.jpg") == 200
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="200x/cat.jpg")["TagSet"]
    assert tags == [{"Key": "resizer:derived", "Value": "1"}]
    assert s3.get_object_tagging(Bucket=BUCKET, Key="cat.jpg")["TagSet"] == []


def test_replacing_an_original_deletes_its_stale_sizes_only(s3):
    s3.put_object(Bucket=BUCKET, Key="a/cat.jpg", Body=picture("red"))
    s3.put_object(Bucket=BUCKET, Key="dog.jpg", Body=picture("red"))
    for path in ("/200x/a/cat.jpg", "/100x100,webp/a/cat.jpg", "/200x/dog.jpg"):
        assert render(path) == 200
    etag = s3.put_object(Bucket=BUCKET, Key="a/cat.jpg", Body=picture("blue"))["ETag"].strip('"')
    assert render("/x50/a/cat.jpg") == 200  # rendered from the new bytes before the event arrives

    answer = cleanup.handler(event("Object Created", "a/cat.jpg", etag=etag), Context())

    assert sorted(answer["deleted"]) == ["100x100,webp/a/cat.jpg", "200x/a/cat.jpg"]
    assert keys(s3) == {"a/cat.jpg", "dog.jpg", "200x/dog.jpg", "x50/a/cat.jpg"}


def test_the_same_bytes_again_keep_every_size(s3):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    assert render("/200x/cat.jpg") == 200
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    assert cleanup.handler(event("Object Created", "cat.jpg"), Context())["deleted"] == []
    assert "200x/cat.jpg" in keys(s3)


def test_deleting_an_original_deletes_all_its_sizes(s3):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    s3.put_object(Bucket=BUCKET, Key="cat.jpg.old", Body=picture("red"))
    for path in ("/200x/cat.jpg", "/x60/cat.jpg", "/200x/cat.jpg.old"):
        assert render(path) == 200
    s3.delete_object(Bucket=BUCKET, Key="cat.jpg")
    answer = cleanup.handler(event("Object Deleted", "cat.jpg"), Context())
    assert sorted(answer["deleted"]) == ["200x/cat.jpg", "x60/cat.jpg"]
    assert keys(s3) == {"cat.jpg.old", "200x/cat.jpg.old"}


def test_a_late_delete_event_spares_sizes_of_the_original_uploaded_since(s3):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    s3.delete_object(Bucket=BUCKET, Key="cat.jpg")
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("blue"))
    assert render("/200x/cat.jpg") == 200
    assert cleanup.handler(event("Object Deleted", "cat.jpg"), Context())["deleted"] == []
    assert "200x/cat.jpg" in keys(s3)


def test_an_object_the_function_did_not_write_is_never_deleted(s3):
    # Uploaded with a size-shaped key by another client: no source-etag, so not a derived object.
    s3.put_object(Bucket=BUCKET, Key="300x200/cat.jpg", Body=picture("red"))
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    s3.delete_object(Bucket=BUCKET, Key="cat.jpg")
    assert cleanup.handler(event("Object Deleted", "cat.jpg"), Context())["deleted"] == []
    assert keys(s3) == {"300x200/cat.jpg"}


class NoCalls:
    def __getattr__(self, name):
        raise AssertionError(f"S3 was called ({name}) for an event that needs no work")


@pytest.mark.parametrize(
    ("detail_type", "key"),
    [
        ("Object Created", "200x/cat.jpg"),
        ("Object Deleted", "100x100,webp/a/cat.jpg"),
        ("Object Created", "x50/a"),
    ],
)
def test_events_for_derived_objects_are_ignored_without_a_call(s3, monkeypatch, detail_type, key):
    monkeypatch.setattr(cleanup, "s3_client", lambda: NoCalls())
    answer = cleanup.handler(event(detail_type, key), Context())
    assert answer == {"key": key, "ignored": "a derived object"}


def test_events_of_another_bucket_or_shape_are_ignored(s3, monkeypatch):
    monkeypatch.setattr(cleanup, "s3_client", lambda: NoCalls())
    assert cleanup.handler(event("Object Created", "cat.jpg", bucket="other"), Context())["ignored"]
    assert cleanup.handler({"source": "aws.events"}, Context())["ignored"]
    assert cleanup.handler("not an event", Context())["ignored"]


def test_an_encoded_key_in_the_event_reaches_the_original(s3):
    s3.put_object(Bucket=BUCKET, Key="my cat.jpg", Body=picture("red"))
    assert render("/200x/my cat.jpg") == 200
    s3.delete_object(Bucket=BUCKET, Key="my cat.jpg")
    answer = cleanup.handler(event("Object Deleted", "my+cat.jpg"), Context())
    assert answer["deleted"] == ["200x/my cat.jpg"]


class Counting:
    """An S3 client that counts its listings."""

    def __init__(self, client) -> None:
        self.client, self.listings = client, 0

    def list_objects_v2(self, **kwargs):
        self.listings += 1
        return self.client.list_objects_v2(**kwargs)


def test_the_sizes_are_found_without_walking_the_originals(s3):
    for i in range(1200):
        s3.put_object(Bucket=BUCKET, Key=f"2024-01-{i:04d}.jpg", Body=b"x")
        s3.put_object(Bucket=BUCKET, Key=f"img-{i:04d}.jpg", Body=b"x")
    for key in (
        "photos/a.jpg",
        "300x200",
        "300x200/a.jpg",
        "x600,webp/b/c.jpg",
        "x/notasize.jpg",
        "300/a.jpg",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    counting = Counting(s3)
    assert cleanup.stored_specs(counting, BUCKET) == ["300x200", "x600,webp"]
    assert counting.listings <= 4, f"{counting.listings} listings for 2400 top-level originals"


def test_a_bucket_without_sizes_costs_one_listing_per_event(s3, monkeypatch):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    counting = Counting(s3)
    monkeypatch.setattr(cleanup, "s3_client", lambda: counting)  # no head_object: it would fail
    answer = cleanup.handler(event("Object Created", "my+cat.jpg"), Context())
    assert answer == {"key": "my+cat.jpg", "deleted": []}
    assert counting.listings == 1, "the size folders only: no original's ETag is looked up"


class FailingDeletes:
    def __init__(self, client) -> None:
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def delete_objects(self, **kwargs):
        objects = kwargs["Delete"]["Objects"]
        return {
            "Errors": [{"Key": o["Key"], "Code": "AccessDenied", "Message": "Access Denied"} for o in objects]
        }


def test_keys_s3_did_not_delete_fail_the_invocation_so_lambda_retries(s3, monkeypatch):
    s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=picture("red"))
    assert render("/200x/cat.jpg") == 200
    s3.delete_object(Bucket=BUCKET, Key="cat.jpg")
    monkeypatch.setattr(cleanup, "s3_client", lambda: FailingDeletes(s3))
    with pytest.raises(cleanup.CleanupFailed, match=r"200x/cat\.jpg: AccessDenied"):
        cleanup.handler(event("Object Deleted", "cat.jpg"), Context())


def test_cdn_paths_of_what_was_deleted_and_of_the_original_are_invalidated(s3, monkeypatch):
    calls = []
    monkeypatch.setenv("DISTRIBUTION_ID", "E2EXAMPLE")
    monkeypatch.setattr(
        cleanup, "invalidate", lambda distribution, keys: calls.append((distribution, keys)) or "I1"
    )
    s3.put_object(Bucket=BUCKET, Key="new.jpg", Body=picture("red"))
    assert cleanup.handler(event("Object Created", "new.jpg"), Context())["deleted"] == []
    assert calls == [], "a new original with no size costs no invalidation"
    assert render("/200x/new.jpg") == 200
    s3.delete_object(Bucket=BUCKET, Key="new.jpg")
    answer = cleanup.handler(event("Object Deleted", "new.jpg"), Context())
    assert answer["invalidation"] == "I1"
    assert calls == [("E2EXAMPLE", ["new.jpg", "200x/new.jpg"])]


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen.append((self.path, dict(self.headers), body.decode()))
        reply = b"<Invalidation><Id>I2J3EXAMPLE</Id><Status>InProgress</Status></Invalidation>"
        self.send_response(201)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def test_the_invalidation_is_a_signed_cloudfront_request(aws_env, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("AWS_ENDPOINT_URL_CLOUDFRONT", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    try:
        assert cleanup.invalidate("E2EXAMPLE", ["my cat.jpg", "200x/my cat.jpg"]) == "I2J3EXAMPLE"
    finally:
        server.shutdown()
    ((path, headers, body),) = Recorder.seen
    assert path == "/2020-05-31/distribution/E2EXAMPLE/invalidation"
    assert "/us-east-1/cloudfront/aws4_request" in headers["Authorization"]
    assert "<Quantity>2</Quantity>" in body
    assert "<Path>/200x/my%20cat.jpg</Path>" in body and "<Path>/my%20cat.jpg</Path>" in body
