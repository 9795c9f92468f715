"""Bad input against a real local-cloud process is answered as AWS answers it: a 4xx, never a 5xx,
never a hang; and the website serves ranges and conditional requests as S3 does."""

import json
import socket
import time
import urllib.error
import urllib.request
from email.utils import formatdate

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.server_process import ServerProcess

BUCKET = "guarded-site"
BODY = bytes(range(256)) * 40  # 10,240 bytes
WEBSITE = {"IndexDocument": {"Suffix": "index.html"}}
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<Tagging><TagSet><Tag><Key>k</Key><Value>&lol3;</Value></Tag></TagSet></Tagging>"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("guarded") / "data"
    process = ServerProcess(data, env={"LOCALCLOUD_READ_TIMEOUT": "2", "LOCALCLOUD_MAX_CONNECTIONS": "12"})
    process.start()
    s3 = process.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ]
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=WEBSITE)
    s3.put_object(Bucket=BUCKET, Key="photo.jpg", Body=BODY, ContentType="image/jpeg")
    yield process
    process.kill()


def site(server, key="photo.jpg", **headers):
    request = urllib.request.Request(f"{server.url}/_aws/s3-website/{BUCKET}/{key}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def raw(server, request: bytes, *, wait: float = 30) -> bytes:
    """Send bytes on a fresh connection; everything answered until the server closes (or wait)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received


def test_website_configurations_are_validated_as_s3_does(server):
    s3 = server.client("s3")
    cases = [
        ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument"),
        ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument"),
        ({"ErrorDocument": {"Key": "error.html"}}, "InvalidArgument"),
        (
            {
                "IndexDocument": {"Suffix": "index.html"},
                "RoutingRules": [
                    {"Condition": {"HttpErrorCodeReturnedEquals": "200"}, "Redirect": {"HostName": "x"}}
                ],
            },
            "InvalidArgument",
        ),
    ]
    for configuration, code in cases:
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=configuration)
        assert refused.value.response["Error"]["Code"] == code, configuration
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert site(server)[0] == 200, "the website still serves with its valid configuration"


def _signed_put(server, query: str, body: bytes) -> tuple[int, bytes]:
    """A signed PUT with a hand-made body (boto3 would build valid XML itself)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="PUT", url=f"{server.url}/{BUCKET}?{query}", data=body)
    SigV4Auth(Credentials("localcloud", "localcloud"), "s3", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=body, method="PUT", headers=dict(request.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize(
    "body",
    [
        b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix>",  # not well-formed
        b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument><Bogus/></WebsiteConfiguration>",
        b"not xml at all",
    ],
)
def test_a_malformed_website_body_is_400_malformed_xml_and_the_site_keeps_serving(server, body):
    status, answer = _signed_put(server, "website", body)
    assert status == 400 and b"<Code>MalformedXML</Code>" in answer
    assert site(server)[0] == 200


def test_a_billion_laughs_tagging_body_is_400_malformed_xml(server):
    started = time.monotonic()
    status, answer = _signed_put(server, "tagging", LAUGHS)
    assert status == 400 and b"<Code>MalformedXML</Code>" in answer
    assert time.monotonic() - started < 10


def test_an_api_request_over_10_mb_is_413_without_sending_the_body(server):
    head = (
        "POST /_aws/execute-api/anyapi/prod/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n"
    )
    answer = raw(server, head.encode() + b"x" * 1000, wait=10)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_body_shorter_than_declared_is_answered_within_the_read_timeout(server):
    head = (
        f"PUT /{BUCKET}/short.bin HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=localcloud/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=00\r\nContent-Length: 1000\r\n\r\n"
    )
    started = time.monotonic()
    answer = raw(server, head.encode() + b"0123456789", wait=20)
    assert time.monotonic() - started < 10, "the read timeout (2 s here) bounds the wait"
    assert answer.startswith(b"HTTP/1.1 400") and b"RequestTimeout" in answer, answer[:300]


def test_connections_beyond_the_bound_are_refused_with_503_and_service_resumes(server):
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(12)]
    try:
        time.sleep(0.3)
        refused = raw(server, b"GET /_localcloud/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", wait=10)
        assert refused.startswith(b"HTTP/1.1 503") and b"SlowDown" in refused
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.5)
    assert site(server)[0] == 200


def test_a_host_with_userinfo_is_not_loopback(server):
    host = f"127.0.0.1:{server.port}@evil.com"
    request = f"GET /_aws/s3-website/{BUCKET}/photo.jpg HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    answer = raw(server, request.encode())
    assert answer.startswith(b"HTTP/1.1 403")


def test_the_website_serves_byte_ranges(server):
    status, headers, body = site(server)
    assert status == 200 and headers["Accept-Ranges"] == "bytes" and body == BODY
    status, headers, body = site(server, Range="bytes=100-199")
    assert (
        status == 206 and body == BODY[100:200] and headers["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    )
    status, headers, body = site(server, Range="bytes=-10")
    assert status == 206 and body == BODY[-10:]
    status, headers, body = site(server, Range="bytes=10000-")
    assert status == 206 and body == BODY[10000:]
    status, headers, _ = site(server, Range=f"bytes={len(BODY)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(BODY)}"
    status, _, body = site(server, Range="bytes=0-1,5-6")
    assert status == 200 and body == BODY, "several ranges: S3 sends the whole object"


def test_the_website_answers_conditional_requests_as_s3_does(server):
    _, headers, _ = site(server)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    past, future = formatdate(0, usegmt=True), formatdate(time.time() + 3600, usegmt=True)
    assert site(server, **{"If-None-Match": etag})[0] == 304
    assert site(server, **{"If-None-Match": f"W/{etag}"})[0] == 304
    assert site(server, **{"If-None-Match": f'"other", {etag}'})[0] == 304
    assert site(server, **{"If-None-Match": '"other"'})[0] == 200
    assert site(server, **{"If-Modified-Since": modified})[0] == 304
    assert site(server, **{"If-Modified-Since": past})[0] == 200
    assert site(server, **{"If-Match": '"other"'})[0] == 412
    assert site(server, **{"If-Match": etag})[0] == 200
    assert site(server, **{"If-Unmodified-Since": past})[0] == 412
    assert site(server, **{"If-Unmodified-Since": future})[0] == 200
    assert site(server, **{"If-Match": etag, "If-Unmodified-Since": past})[0] == 200, "If-Match wins"
    assert site(server, **{"If-None-Match": etag, "If-Modified-Since": past})[0] == 304


def test_valid_configuration_bodies_still_pass(server):
    s3 = server.client("s3")
    s3.put_object_acl(Bucket=BUCKET, Key="photo.jpg", ACL="public-read")  # an empty body
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "team", "Value": "images"}]})
    s3.put_object(Bucket=BUCKET, Key="a&b<c>.jpg", Body=b"odd name")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "a&b<c>.jpg"}]})
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="a&b")
    assert site(server)[0] == 200


def test_the_website_serves_what_the_policy_makes_public_key_by_key(server):
    """A grant on a prefix serves that prefix only; an explicit Deny wins over the public grant
    (S3 evaluates the policy for the object requested, as for any anonymous GetObject)."""
    s3 = server.client("s3")
    bucket = "prefix-site"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=WEBSITE)
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    statements = [
        {**public, "Resource": f"arn:aws:s3:::{bucket}/public/*"},
        {**public, "Effect": "Deny", "Resource": f"arn:aws:s3:::{bucket}/public/secret.jpg"},
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": statements}))
    for key in ("public/photo.jpg", "public/secret.jpg", "private/photo.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"image " + key.encode(), ContentType="image/jpeg")

    def status(key: str, **headers: str) -> int:
        url = f"{server.url}/_aws/s3-website/{bucket}/{key}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code

    for full_path in ({}, {"Range": "bytes=0-"}):  # a plain GET is a fast-path hit; a Range is not
        assert status("public/photo.jpg", **full_path) in (200, 206)
        assert status("public/secret.jpg", **full_path) == 403
        assert status("private/photo.jpg", **full_path) == 403
