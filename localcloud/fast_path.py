"""Hits without moto's dispatch: stored objects answered by the HTTP handler thread directly.

Website GETs of public objects, CDN cache hits, anonymous path-style S3 GETs of readable objects
and plain signed GetObject/HeadObject calls (path-style, no sub-resource) are answered here, from
the state moto holds, without building a WSGI environ, a Flask request or werkzeug's
Request/Response, and over a kept-alive connection (werkzeug closes every connection after one
answer). The answer is the one the full path gives (same status, headers and body;
tests/localcloud/test_fast_path.py compares them). Anything else - a query string, a conditional
or Range header, a body, a refusal, a redirect, a miss, a non-loopback Host - returns None and
takes the full path, so every rule the full path applies still holds there.
"""

import os
from typing import Any
from urllib.parse import unquote

from localcloud import cdn as cdn_module
from localcloud import frontdoor, region_guard, regions, request_guard, s3_access

Answer = tuple[int, list[tuple[str, str]], bytes, int]  # status, headers, body, Content-Length
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_FULL_PATH_HEADERS = (
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Content-Length",
    "Transfer-Encoding",
    "Expect",
    "Origin",
)
_IAM_CHECKS = bool(os.environ.get("INITIAL_NO_AUTH_ACTION_COUNT"))  # moto then authorizes each call
_SIGNING_HEADERS = {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "x-amz-checksum-mode"}


class FastPath:
    """``(method, target, headers) -> (status, headers, body, length) | None``; None: the full path."""

    def __init__(self, door: frontdoor.FrontDoor, distributions: cdn_module.Cdn, account_id: str) -> None:
        self.door = door
        self.distributions = distributions
        self.account_id = account_id

    def __call__(self, method: str, target: str, headers: Any) -> Answer | None:
        if method not in ("GET", "HEAD") or not target.startswith("/") or "?" in target:
            return None
        if any(name in headers for name in _FULL_PATH_HEADERS):
            return None
        if request_guard.loopback_host(headers.get("Host", "127.0.0.1")) not in _LOOPBACK:
            return None  # the full path refuses it, or it is virtual-hosted S3
        if target.startswith(frontdoor.WEBSITE_PREFIX):
            return self.door.website_hit(method, target[len(frontdoor.WEBSITE_PREFIX) :])
        if target.startswith(cdn_module.PREFIX):
            distribution_id, _, raw_path = target[len(cdn_module.PREFIX) :].partition("/")
            return self.distributions.hit(method, distribution_id, "/" + raw_path)
        if target.startswith("/_"):
            return None
        if "Authorization" in headers:
            return self._signed_s3(method, target, headers)
        return self._anonymous_s3(method, target)

    def _signed_s3(self, method: str, target: str, headers: Any) -> Answer | None:
        """A plain GetObject/HeadObject, answered with the headers moto's S3 answers it with."""
        from moto.s3.models import ARCHIVE_STORAGE_CLASSES, FakeKey
        from moto.utilities.aws_headers import gen_amzn_requestid_long

        scope = region_guard.scope({"HTTP_AUTHORIZATION": headers.get("Authorization", "")})
        if scope is None or scope[1] != "s3" or not regions.known(scope[0]) or _IAM_CHECKS:
            return None  # the full path refuses it, or moto's IAM emulation decides it
        names = [name.lower() for name in headers]
        if any(name.startswith("x-amz-") and name not in _SIGNING_HEADERS for name in names):
            return None  # SSE-C, checksum mode, expected owner, request payer...: the full path
        located = self._located(target)
        found = located[0].keys.get(located[1]) if located is not None else None
        if not isinstance(found, FakeKey) or found.storage_class in ARCHIVE_STORAGE_CLASSES:
            return None
        fields: dict[str, Any] = {}
        if found.version_id != "null":
            fields["x-amz-version-id"] = found.version_id
        fields.update(found.response_dict)
        if headers.get("x-amz-checksum-mode") == "ENABLED" and found.checksum_algorithm:  # boto3 sends it
            value = found.checksum_value
            if found.checksum_type == "COMPOSITE":
                value = f"{found.checksum_value}-{found.checksum_parts}"
            fields[f"x-amz-checksum-{found.checksum_algorithm.lower()}"] = value
            if found.checksum_type:
                fields["x-amz-checksum-type"] = found.checksum_type
        fields.update(found.metadata)
        fields["Accept-Ranges"] = "bytes"
        fields["x-amzn-requestid"] = gen_amzn_requestid_long()  # as moto's server adds them
        fields["Access-Control-Allow-Origin"] = "*"
        listed = [(str(k), str(v)) for k, v in fields.items() if str(k).lower() != "content-length"]
        if not any(name.lower() == "content-type" for name, _ in listed):
            return None
        return 200, listed, b"" if method == "HEAD" else found.value, found.size

    def _located(self, target: str) -> tuple[Any, str] | None:
        """The bucket (moto's FakeBucket) and key of a path-style target; None without either."""
        from moto.s3.models import s3_backends

        bucket_name, _, raw_key = target[1:].partition("/")
        bucket = s3_backends[self.account_id]["aws"].buckets.get(unquote(bucket_name))
        return (bucket, unquote(raw_key)) if bucket is not None and raw_key else None

    def _anonymous_s3(self, method: str, target: str) -> Answer | None:
        """An unsigned GET of a readable object (localcloud.anonymous_s3 answers the rest)."""
        located = self._located(target)
        if located is None:
            return None
        answer = s3_access.read(*located, s3_access.Reader())
        if answer.status != 200 or answer.key is None:
            return None
        found = answer.key
        fields = s3_access.rest_object_headers(found)
        if not any(name.lower() == "content-type" for name, _ in fields):
            return None  # werkzeug adds its default type on the full path
        return 200, fields, b"" if method == "HEAD" else found.value, found.size
