"""Who may read a bucket's objects without the owner's credentials, decided as S3 decides it.

moto stores bucket policies and Block Public Access but enforces neither. The local cloud's
readers that are not the bucket owner - an anonymous GET on the S3 REST API, a CloudFront
distribution signing through Origin Access Control - are decided here from the bucket policy:
an explicit Deny wins, then an Allow whose principal, action, resource and conditions match.
``RestrictPublicBuckets`` ignores public statements (Principal "*") for anyone but AWS service
principals and the owner's account. A missing object is a 404 only for a reader that may also
``s3:ListBucket`` the bucket; otherwise it is a 403 AccessDenied, so that a reader cannot learn
which keys exist.

Conditions understood: String/Arn Equals/Like (and their Not forms) on ``AWS:SourceArn``,
``AWS:SourceAccount`` and ``aws:SecureTransport``; a statement with any other condition never
applies (so a policy this module cannot read grants nothing, it never grants too much).
"""

import fnmatch
import functools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "*"


@dataclass(frozen=True)
class Reader:
    """Who asks: ``*`` (anonymous) or a service principal, with the request's context keys."""

    principal: str = ANONYMOUS
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What S3 answers a GET or HEAD: the status, and the object when it is served."""

    status: int
    key: Any = None  # moto's FakeKey on a 200
    code: str = ""


def read(bucket: Any, key: str, reader: Reader) -> Answer:
    """The answer of S3 to ``reader`` GETting ``key`` from moto's FakeBucket ``bucket``."""
    object_arn = f"arn:aws:s3:::{bucket.name}/{key}"
    if not key or not allowed(bucket, reader, "s3:GetObject", object_arn):
        if not key and allowed(bucket, reader, "s3:ListBucket", f"arn:aws:s3:::{bucket.name}"):
            return Answer(200, code="ListBucket")  # a listing: the caller renders it
        return Answer(403, code="AccessDenied")
    found = bucket.keys.get(key)
    if found is None:
        if allowed(bucket, reader, "s3:ListBucket", f"arn:aws:s3:::{bucket.name}"):
            return Answer(404, code="NoSuchKey")
        return Answer(403, code="AccessDenied")
    return Answer(200, found)


def allowed(bucket: Any, reader: Reader, action: str, resource: str) -> bool:
    """Whether the bucket policy lets reader do action on resource (no explicit Deny)."""
    statements = _statements(bucket.policy)
    restrict = bool(getattr(bucket.public_access_block, "restrict_public_buckets", False))
    granted = False
    for statement in statements:
        if not _applies(statement, reader, action, resource):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            public = _is_public(statement)
            if public and restrict and reader.principal == ANONYMOUS:
                continue
            granted = True
    return granted


def error_xml(code: str, message: str, resource: str = "") -> bytes:
    """S3's XML error body."""
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        + (f"<Key>{escape(resource)}</Key>" if resource else "")
        + f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()


MESSAGES = {"AccessDenied": "Access Denied", "NoSuchKey": "The specified key does not exist."}


def object_headers(found: Any) -> list[tuple[str, str]]:
    """moto's FakeKey's stored system and user metadata (Content-Type, Cache-Control, ETag,
    x-amz-meta-*), spelled as S3 serves them; without Content-Length (the server sets it)."""
    headers = {_header_case(k): str(v) for k, v in {**found.metadata, **found.response_dict}.items()}
    headers.pop("Content-Length", None)
    return list(headers.items())


def rest_object_headers(found: Any) -> list[tuple[str, str]]:
    """The same metadata as moto's S3 REST API answers it (x-amz-* in lower case, the rest as
    stored), without Content-Length: an anonymous GET's headers (localcloud.anonymous_s3)."""
    headers = {}
    for name, value in {**found.metadata, **found.response_dict}.items():
        lowered = str(name).lower()
        if lowered != "content-length":
            headers[lowered if lowered.startswith("x-amz-") else name] = str(value)
    return list(headers.items())


def _header_case(name: str) -> str:
    """Content-Type, Cache-Control, ETag as S3 spells them; x-amz-* headers stay lower case."""
    lowered = str(name).lower()
    if lowered.startswith("x-amz-"):
        return lowered
    return {"etag": "ETag"}.get(lowered, "-".join(part.capitalize() for part in lowered.split("-")))


def _statements(policy: Any) -> tuple[dict[str, Any], ...]:
    if not policy:
        return ()
    if isinstance(policy, (bytes, str)):
        return _parsed_statements(policy)
    return _parse_statements(policy)


@functools.lru_cache(maxsize=256)
def _parsed_statements(policy: bytes | str) -> tuple[dict[str, Any], ...]:
    """Keyed by the policy's text, so a PutBucketPolicy is never answered from a stale parse; the
    statements are shared between requests and only read."""
    return _parse_statements(policy)


def _parse_statements(policy: Any) -> tuple[dict[str, Any], ...]:
    try:
        document = json.loads(policy)
    except (ValueError, TypeError):
        return ()
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return tuple(s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return [ANONYMOUS]
    if isinstance(principal, dict):
        found: list[str] = []
        for kind in ("AWS", "Service"):
            found += [str(p) for p in _listed(principal.get(kind, []))]
        return found
    return []


def _is_public(statement: dict[str, Any]) -> bool:
    return ANONYMOUS in _principals(statement) and not statement.get("Condition")


def _applies(statement: dict[str, Any], reader: Reader, action: str, resource: str) -> bool:
    principals = _principals(statement)
    if ANONYMOUS not in principals and reader.principal not in principals:
        return False
    if not any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in _listed(statement.get("Action"))):
        return False
    if not any(fnmatch.fnmatchcase(resource, str(r)) for r in _listed(statement.get("Resource"))):
        return False
    return _conditions_hold(statement.get("Condition") or {}, reader.context)


_OPERATORS = {
    "StringEquals": (False, False),
    "ArnEquals": (False, False),
    "StringLike": (True, False),
    "ArnLike": (True, False),
    "StringNotEquals": (False, True),
    "ArnNotEquals": (False, True),
    "StringNotLike": (True, True),
    "ArnNotLike": (True, True),
    "Bool": (False, False),
}
_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:securetransport"}


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, tests in conditions.items():
        if operator not in _OPERATORS or not isinstance(tests, dict):
            return False
        like, negated = _OPERATORS[operator]
        for name, expected in tests.items():
            if name.lower() not in _KEYS:
                return False
            actual = lowered.get(name.lower())
            if actual is None:
                return negated
            match = any(
                fnmatch.fnmatchcase(actual, str(e))
                if like
                else actual.lower() == str(e).lower()
                if operator == "Bool"
                else actual == str(e)
                for e in _listed(expected)
            )
            if match == negated:
                return False
    return True
