"""The fast path (localcloud.fast_path) answers hits exactly as the full WSGI path does, over a
kept-alive connection, and leaves every other request (refusals, conditions, ranges) to it.

A request with ``Content-Length: 0`` always takes the full path, so each hit is compared with the
same request answered by the full path, on a real server process.
"""

import http.client
import json
import os

import boto3
import pytest
from botocore.config import Config

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import local

VOLATILE = {"date", "server", "connection", "x-amz-cf-id", "age", "x-amzn-requestid"}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    ],
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    os.environ.setdefault("RESIZER_CACHE_DIR", str(tmp_path_factory.mktemp("fast-cache")))
    with local_cloud(tmp_path_factory.mktemp("fast-local"), free_port()) as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}),
        )
        s3.create_bucket(Bucket="site")
        s3.put_bucket_website(
            Bucket="site",
            WebsiteConfiguration={
                "IndexDocument": {"Suffix": "index.html"},
                "RoutingRules": [
                    {
                        "Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "gone/"},
                        "Redirect": {"HttpRedirectCode": "307", "ReplaceKeyPrefixWith": "here/"},
                    }
                ],
            },
        )
        s3.put_bucket_policy(Bucket="site", Policy=json.dumps(POLICY))
        s3.create_bucket(Bucket="private")
        s3.put_bucket_website(Bucket="private", WebsiteConfiguration={"IndexDocument": {"Suffix": "i.html"}})
        extra = {"CacheControl": "public, max-age=60", "Metadata": {"who": "me"}}
        s3.put_object(
            Bucket="site",
            Key="a b/photo.jpg",
            Body=b"\xff\xd8" + b"x" * 5000,
            ContentType="image/jpeg",
            **extra,
        )
        s3.put_object(Bucket="site", Key="dir/index.html", Body=b"<p>hi</p>", ContentType="text/html")
        s3.put_object(
            Bucket="private", Key="p.txt", Body=b"secret", ContentType="text/plain", ChecksumAlgorithm="CRC32"
        )
        events = local.provision(url, stack_name="fast", sleep=lambda s: None)  # the cdn delivery
        ready = [e for e in events if isinstance(e, local.Ready)][-1]
        s3.put_object(
            Bucket=ready.outputs["BucketName"], Key="o.jpg", Body=b"y" * 3000, ContentType="image/jpeg"
        )
        yield url, ready.outputs["CdnUrl"].split(url, 1)[1]


def request(url: str, path: str, method: str = "GET", headers: dict | None = None, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection(url.split("//")[1], timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        if own:
            connection.close()


def same_as_full_path(url: str, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    fast = request(url, path, method)
    full = request(url, path, method, {"Content-Length": "0"})
    assert fast[0] == full[0]
    assert fast[2] == full[2]
    assert {k: v for k, v in fast[1].items() if k not in VOLATILE} == {
        k: v for k, v in full[1].items() if k not in VOLATILE
    }
    assert "connection" not in fast[1], "a hit keeps its connection open"
    assert full[1].get("connection") == "close"
    return fast


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_website_hits_are_answered_as_by_the_full_path(cloud, method):
    url, _ = cloud
    status, headers, body = same_as_full_path(url, "/_aws/s3-website/site/a%20b/photo.jpg", method)
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert headers["cache-control"] == "public, max-age=60" and headers["x-amz-meta-who"] == "me"
    assert headers["content-length"] == "5002" and headers["accept-ranges"] == "bytes"
    assert body == (b"" if method == "HEAD" else b"\xff\xd8" + b"x" * 5000)
    assert same_as_full_path(url, "/_aws/s3-website/site/dir/", method)[0] == 200  # the index document


def test_boto3_get_object_is_answered(cloud):
    url, _ = cloud
    s3 = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    got = s3.get_object(Bucket="private", Key="p.txt")  # boto3 validates the CRC32 it is sent
    assert got["Body"].read() == b"secret" and got["ContentType"] == "text/plain"
    assert got["ChecksumCRC32"] and "connection" not in got["ResponseMetadata"]["HTTPHeaders"]


def test_anonymous_s3_hits_are_answered_as_by_the_full_path(cloud):
    url, _ = cloud
    status, headers, _ = same_as_full_path(url, "/site/a%20b/photo.jpg")
    assert status == 200 and headers["etag"]


def test_cdn_hits_are_answered_as_by_the_full_path(cloud):
    url, cdn = cloud
    first = request(url, f"{cdn}/o.jpg")
    assert first[0] == 200 and first[1]["x-cache"] == "Miss from cloudfront"
    status, headers, body = same_as_full_path(url, f"{cdn}/o.jpg")
    assert status == 200 and headers["x-cache"] == "Hit from cloudfront" and body == b"y" * 3000
    assert "age" in headers and headers["via"].endswith("(CloudFront)")


def test_a_kept_alive_connection_still_gets_refusals_conditions_and_ranges(cloud):
    url, cdn = cloud
    connection = http.client.HTTPConnection(url.split("//")[1], timeout=30)
    try:
        path = "/_aws/s3-website/site/a%20b/photo.jpg"
        status, headers, _ = request(url, path, connection=connection)
        assert status == 200
        etag = headers["etag"]
        assert request(url, path, headers={"If-None-Match": etag}, connection=connection)[0] == 304
    finally:
        connection.close()
    status, headers, body = request(url, path, headers={"Range": "bytes=0-1"})
    assert (status, body, headers["content-range"]) == (206, b"\xff\xd8", "bytes 0-1/5002")
    assert request(url, "/_aws/s3-website/private/p.txt")[0] == 403  # no public-read policy
    assert request(url, "/private/p.txt")[0] == 403  # anonymous S3 read of a private bucket
    assert request(url, f"{cdn.rsplit('/', 1)[0]}/NOSUCHDIST/o.jpg")[0] == 403
    status, headers, _ = request(url, "/_aws/s3-website/site/gone/x.jpg")
    assert status == 307 and headers["location"].endswith("/here/x.jpg")
    refused = request(url, path, headers={"Host": "127.0.0.1:4633@evil.com"})
    assert refused[0] == 403


def signed(url: str, path: str, region: str = "us-east-1") -> dict:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signing = AWSRequest("GET", f"{url}{path}", headers={"x-amz-checksum-mode": "ENABLED"})  # as boto3 sends
    SigV4Auth(Credentials("x", "x"), "s3", region).add_auth(signing)
    return {k: v for k, v in signing.headers.items() if k.lower() != "host"}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_signed_get_object_is_answered_as_by_moto(cloud, method):
    url, _ = cloud
    path = "/private/p.txt"
    fast = request(url, path, method, signed(url, path))
    full = request(url, path, method, {**signed(url, path), "Content-Length": "0"})
    assert fast[0] == full[0] == 200
    assert fast[2] == full[2] == (b"" if method == "HEAD" else b"secret")
    assert {k: v for k, v in fast[1].items() if k not in VOLATILE} == {
        k: v for k, v in full[1].items() if k not in VOLATILE
    }
    assert "connection" not in fast[1] and len(fast[1]["x-amzn-requestid"]) == 52
    assert fast[1]["x-amz-checksum-crc32"], "the checksum boto3 asks for and validates"
    assert request(url, path, headers=signed(url, path, "mars-1"))[0] == 400  # an unknown region
    missing = "/private/nothing.txt"
    assert request(url, missing, headers=signed(url, missing))[0] == 404


def test_a_header_value_with_a_line_break_or_not_latin_1_is_left_to_the_full_path():
    from localcloud.http_server import _head

    fixed = ("HTTP/1.1", "Werkzeug", True)

    head = _head(*fixed, 200, [("Content-Type", "image/jpeg")], b"", 3)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(
        b"Content-Length: 3\r\nConnection: close\r\n\r\n"
    )
    assert _head(*fixed, 200, [("X-Amz-Meta-A", "b\r\nSet-Cookie: evil")], b"", 0) is None
    assert _head(*fixed, 200, [("X-Amz-Meta-A", "b\nc")], b"", 0) is None
    assert _head(*fixed, 200, [("X-Amz-Meta-A", "\u20ac")], b"", 0) is None
