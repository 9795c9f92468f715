"""S3's ExpectedBucketOwner check, which moto ignores: a 403 when the bucket's owner is another account.

The local cloud is one account (moto's default), which owns every bucket in it; so a request
whose ``x-amz-expected-bucket-owner`` header names any other account is refused as S3 refuses it:
403 AccessDenied, before anything is read or written.
"""

from typing import Any

HEADER = "HTTP_X_AMZ_EXPECTED_BUCKET_OWNER"
_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied'
    b"</Message></Error>"
)


def refuse(environ: dict, owner: str, start_response: Any) -> list[bytes] | None:
    """The 403 answer when the request expects another owner than ``owner``; None when it may go on."""
    expected = environ.get(HEADER)
    if expected is None or expected == owner:
        return None
    headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(_BODY)))]
    start_response("403 Forbidden", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [_BODY]
