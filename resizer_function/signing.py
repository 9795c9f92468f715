"""Signed URLs: an HMAC-SHA256 of the canonical path (and an optional expiry) in the query string.

A signed request carries ``?sig=...`` and, when it expires, ``&expires=UNIX_SECONDS``; the
signature covers ``{path}`` or ``{path}?expires={expires}``, where path is the decoded
canonical path, e.g. ``/300x200,webp/albums/cat.jpg``.
"""

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode

from resizer_function.errors import RequestRefused


def signature(path: str, key: str, expires: int | None = None) -> str:
    message = path if expires is None else f"{path}?expires={expires}"
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(path: str, key: str, expires: int | None = None) -> str:
    """The query string (without '?') that makes a request for path valid."""
    query = {"expires": expires} if expires is not None else {}
    return urlencode({**query, "sig": signature(path, key, expires)})


def verify(path: str, key: str, query: dict[str, str], now: float | None = None) -> None:
    """Raise RequestRefused(403) unless query carries a valid, unexpired signature for path."""
    given, expires = query.get("sig", ""), query.get("expires")
    if not given:
        raise RequestRefused(403, "signature_required", "this endpoint requires a signed URL")
    if expires is not None and not expires.isdigit():
        raise RequestRefused(403, "invalid_signature", "expires must be a Unix time in seconds")
    expected = signature(path, key, int(expires) if expires is not None else None)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise RequestRefused(403, "invalid_signature", "the signature does not match the path")
    if expires is not None and int(expires) < (time.time() if now is None else now):
        raise RequestRefused(403, "expired_signature", "the signed URL has expired")
