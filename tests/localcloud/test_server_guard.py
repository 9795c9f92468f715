"""Who may talk to the local cloud: this machine's SDKs, not web pages nor rebinding hosts."""

import pytest

from localcloud.server import refused


def environ(**headers: str) -> dict:
    env = {"HTTP_HOST": "127.0.0.1:4566", "QUERY_STRING": ""}
    env.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return env


def test_a_signed_sdk_request_is_served():
    assert refused(environ(authorization="AWS4-HMAC-SHA256 Credential=x"), api=True) == ""


def test_a_presigned_url_is_served():
    env = environ()
    env["QUERY_STRING"] = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
    assert refused(env, api=True) == ""


def test_a_cross_site_form_post_into_a_bucket_is_refused():
    assert "web pages" in refused(environ(authorization="x", origin="https://evil.example"), api=True)
    assert "unsigned" in refused(environ(), api=True)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4566", "10.0.0.5:4566"])
def test_other_host_names_are_refused_even_for_the_website(host):
    assert "only answers" in refused(environ(host=host, authorization="x"), api=False)


@pytest.mark.parametrize("host", ["localhost:4566", "[::1]:4566", "bucket.localhost:4566", "127.0.0.1"])
def test_loopback_names_are_served(host):
    assert refused(environ(host=host), api=False) == ""


def test_the_public_paths_need_no_signature():
    assert refused(environ(origin="http://127.0.0.1:8080"), api=False) == ""


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:4633@evil.com", "127.0.0.1@evil.com", "localhost:80:90", "127.0.0.1:999999", "a..localhost"],
)
def test_a_host_header_is_parsed_not_prefix_matched(host):
    assert "only answers" in refused({"HTTP_HOST": host, "QUERY_STRING": ""}, api=False)


@pytest.mark.parametrize("host", ["127.0.0.1:4633", "LOCALHOST", "[::1]:4566", "bucket.s3.localhost:4566"])
def test_loopback_hosts_with_ports_are_served(host):
    assert refused({"HTTP_HOST": host, "QUERY_STRING": ""}, api=False) == ""
