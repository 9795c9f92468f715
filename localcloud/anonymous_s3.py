"""Anonymous (unsigned) GETs of objects on the local S3 API, answered as S3 answers them.

moto would serve any object to anyone; S3 serves an unsigned GET only when the bucket policy
makes the object public (and Block Public Access does not restrict it): otherwise 403
AccessDenied, also for a missing key unless anonymous ``s3:ListBucket`` is granted (then 404).
So a private bucket (the ``cdn`` delivery) refuses anonymous reads here as on AWS, and a
website bucket's public objects can be read with ``curl http://127.0.0.1:4566/{bucket}/{key}``.
Path-style URLs only; any other request is left to the server's usual rules.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from moto.core import DEFAULT_ACCOUNT_ID
from werkzeug.wrappers import Response

from localcloud import s3_access

_SIGNED_QUERY = ("X-Amz-Signature", "X-Amz-Credential", "Signature", "AWSAccessKeyId")


def read(environ: dict, account_id: str = DEFAULT_ACCOUNT_ID) -> Callable | None:
    """The WSGI answer to an anonymous GET/HEAD of an object, or None when this is no such request."""
    from moto.s3.models import s3_backends

    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("HTTP_AUTHORIZATION"):
        return None
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if any(name in query for name in _SIGNED_QUERY) or query:
        return None  # signed, or a sub-resource (?acl, ?list-type...): not an anonymous object read
    path = environ.get("PATH_INFO", "")
    if path.startswith("/_"):
        return None
    raw = environ.get("RAW_URI", environ.get("REQUEST_URI", "")).split("?")[0] or path
    bucket_name, _, raw_key = raw.lstrip("/").partition("/")
    bucket = s3_backends[account_id]["aws"].buckets.get(unquote(bucket_name))
    if bucket is None or not raw_key:
        return None
    answer = s3_access.read(bucket, unquote(raw_key), s3_access.Reader())
    if answer.status != 200 or answer.key is None:
        body = s3_access.error_xml(answer.code or "AccessDenied", s3_access.MESSAGES.get(answer.code, ""))
        status = answer.status if answer.status != 200 else 403
        return Response(body, status=status, content_type="application/xml")
    return _object(answer.key, environ["REQUEST_METHOD"])


def _object(found: Any, method: str) -> Response:
    headers = {}
    for name, value in {**found.metadata, **found.response_dict}.items():
        lowered = str(name).lower()
        if lowered != "content-length":
            headers[lowered if lowered.startswith("x-amz-") else name] = str(value)
    response = Response(b"" if method == "HEAD" else found.value, status=200, headers=headers)
    response.headers["Content-Length"] = str(found.size)
    response.direct_passthrough = method == "HEAD"
    return response
