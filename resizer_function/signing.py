"""Signed URLs: an HMAC-SHA256 of the canonical path (and an optional expiry) in the query string.

A signed request carries ``?sig=...`` and, when it expires, ``&expires=UNIX_SECONDS``; the
signature is base64url(HMAC-SHA256(key, "resizer-v1\n{path}\n{expires or ''}")), where path is
the decoded canonical path, e.g. ``/300x200,webp/albums/cat.jpg``. Keys cannot contain a newline,
so no (path, expires) pair signs the same message as another.
"""

import base64
import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

from resizer_function.errors import RequestRefused


def signature(path: str, key: str, expires: int | None = None) -> str:
    message = f"resizer-v1\n{path}\n{'' if expires is None else expires}"
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(path: str, key: str, expires: int | None = None) -> str:
    """The query string (without '?') that makes a request for path valid."""
    query = {"expires": expires} if expires is not None else {}
    return urlencode({**query, "sig": signature(path, key, expires)})


def verify(path: str, key: str, query: dict[str, str], now: float | None = None) -> None:
    """Raise RequestRefused(403) unless query carries a valid, unexpired signature for path."""
    given, expires = str(query.get("sig") or ""), query.get("expires")
    if not given:
        raise RequestRefused(403, "signature_required", "this endpoint requires a signed URL")
    if expires is not None and not re.fullmatch(r"[0-9]{1,12}", expires):
        raise RequestRefused(403, "invalid_signature", "expires must be a Unix time in seconds")
    expected = signature(path, key, int(expires) if expires is not None else None)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise RequestRefused(403, "invalid_signature", "the signature does not match the path")
    if expires is not None and int(expires) < (time.time() if now is None else now):
        raise RequestRefused(403, "expired_signature", "the signed URL has expired")
