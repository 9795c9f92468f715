"""Range and conditional GETs for the website endpoint, as S3 answers them.

S3's rules (GetObject, RFC 7232/7233): ``If-Match`` that fails is 412, and when it is absent a
failing ``If-Unmodified-Since`` is 412 (a true If-Match wins over a false If-Unmodified-Since);
then an ``If-None-Match`` that matches (weak comparison, lists, ``*``) is 304, and when it is
absent an ``If-Modified-Since`` the object is not newer than is 304. ``Range: bytes=a-b``, ``a-``
and ``-n`` give a 206 with ``Content-Range``; a range that starts past the end is 416 with
``Content-Range: bytes */size``; a malformed or multi-range header is ignored (S3 does not serve
several ranges in one response), answering 200 with the whole object. Every answer says
``Accept-Ranges: bytes``.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.wrappers import Request, Response

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
PRECONDITION_FAILED = "At least one of the pre-conditions you specified did not hold"


def respond(request: Request, headers: dict[str, str], found: Any, error: Callable[..., Response]) -> Any:
    """The response to a GET/HEAD of the stored object ``found`` with ``headers`` already set."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    size = found.size
    status = precondition(request.headers, headers.get("ETag", ""), _modified(found))
    if status == 412:
        failed = error(412, "PreconditionFailed", PRECONDITION_FAILED)
        failed.headers["Accept-Ranges"] = "bytes"
        return failed
    if status == 304:
        kept = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        return Response(status=304, headers=kept)
    span = byte_range(request.headers.get("Range", ""), size)
    if span == "unsatisfiable":
        refused = error(416, "InvalidRange", "The requested range is not satisfiable")
        refused.headers["Content-Range"] = f"bytes */{size}"
        refused.headers["Accept-Ranges"] = "bytes"
        return refused
    head = request.method == "HEAD"
    if span is None:
        response = Response(b"" if head else found.value, status=200, headers=headers)
        length = size
    else:
        start, end = span
        response = Response(b"" if head else found.value[start : end + 1], status=206, headers=headers)
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
    response.headers["Content-Length"] = str(length)
    response.direct_passthrough = head  # keep the object's length on HEAD
    return response


def precondition(request_headers: Any, etag: str, modified: datetime | None) -> int:
    """412, 304 or 200 for the conditional headers of a GET, in S3's order of evaluation."""
    if_match = request_headers.get("If-Match")
    if if_match is not None:
        if not _matches(if_match, etag, weak=False):
            return 412
    else:
        since = _date(request_headers.get("If-Unmodified-Since"))
        if since is not None and modified is not None and modified > since:
            return 412
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        if _matches(if_none_match, etag, weak=True):
            return 304
    else:
        since = _date(request_headers.get("If-Modified-Since"))
        if since is not None and modified is not None and modified <= since:
            return 304
    return 200


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte of a single satisfiable range, 'unsatisfiable', or None for no range."""
    match = _RANGE.match(header.replace(" ", ""))
    if not match:
        return None  # absent, malformed or several ranges: the whole object
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return (max(0, size - suffix), size - 1) if size else "unsatisfiable"
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # an invalid range is ignored (RFC 7233)
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _matches(header: str, etag: str, *, weak: bool) -> bool:
    wanted = _opaque(etag, weak=True)
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/") and not weak:
            continue  # a weak validator never matches strongly
        if _opaque(candidate, weak=True) == wanted:
            return True
    return False


def _opaque(tag: str, *, weak: bool) -> str:
    tag = tag.strip()
    if weak and tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # an invalid date is ignored, as HTTP says
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _modified(found: Any) -> datetime | None:
    modified = getattr(found, "last_modified", None)
    if not isinstance(modified, datetime):
        return None
    modified = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
    return modified.replace(microsecond=0)  # HTTP dates have whole seconds
