"""The second entry point: derived images follow their originals (S3 -> EventBridge -> here).

The images bucket sends its ``Object Created`` and ``Object Deleted`` events to EventBridge; a rule
invokes this handler (asynchronously) with one event. For an original's key it reconciles that key:
every derived object ``{spec}/{key}`` whose ``source-etag`` metadata is not the original's current
ETag (or whose original is gone) is deleted, and in cdn delivery the deleted paths and the
original's are invalidated in CloudFront. Events for derived keys (the resize function writes them,
this handler deletes them) are ignored before any call: they are neither work nor errors.

Reconciling reads the bucket as it is now, not the event, so late, repeated or out-of-order
events are harmless: a derived object rendered from the current bytes is always kept. An object
is deleted only if its key is a derived path AND it carries the ``source-etag`` the resize
function writes (IAM cannot condition s3:DeleteObject on tags), so an original is never deleted.
"""

import functools
import json
import os
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote_plus
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from resizer_function.request import URL_SAFE, derived_spec

HEAD_THREADS = 8
LAST = "\U0010ffff"  # sorts after every other character (UTF-8 order, as S3 lists)
# A prefix of a size folder's name ('300x200,webp/'): digits, an 'x', digits, options, a slash.
_SPEC_PREFIX = re.compile(r"\d{0,6}(?:x\d{0,6}(?:,[a-z0-9,]*)?/?)?")
MISSING = ("404", "NoSuchKey", "NotFound")
CLOUDFRONT_API = "2020-05-31"


class CleanupFailed(Exception):
    """S3 refused to delete some derived objects: the invocation fails, so Lambda retries it."""


@functools.cache
def s3_client():
    """One S3 client per container, from the default chain; honours AWS_ENDPOINT_URL."""
    return boto3.client("s3", config=Config(retries={"mode": "standard"}))


def handler(event: dict, context) -> dict:
    started = time.perf_counter()
    record: dict = {
        "level": "INFO",
        "message": "cleanup",
        "request_id": getattr(context, "aws_request_id", None),
    }
    try:
        detail = event.get("detail") if isinstance(event, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        bucket = str((detail.get("bucket") or {}).get("name") or "")
        key = str((detail.get("object") or {}).get("key") or "")
        record.update(event=event.get("detail-type") if isinstance(event, dict) else None, key=key)
        expected = os.environ.get("BUCKET", "")
        if not key or not bucket:
            return _done(record, started, ignored="not an S3 object event")
        if expected and bucket != expected:
            return _done(record, started, ignored=f"bucket {bucket} is not {expected}")
        # EventBridge may carry the key as S3 wrote it or URL-encoded (as S3's own notifications
        # do): reconciling a key that is not an original deletes only stale objects, so both are safe.
        keys = [k for k in dict.fromkeys([key, unquote_plus(key)]) if not derived_spec(k)]
        if not keys:
            return _done(record, started, ignored="a derived object")
        deleted: list[str] = []
        specs = stored_specs(s3_client(), bucket)
        record["sizes"] = len(specs)
        for original in keys:
            deleted += reconcile(s3_client(), bucket, original, specs)
        record["deleted"] = deleted
        distribution = os.environ.get("DISTRIBUTION_ID", "")
        gone = event.get("detail-type") == "Object Deleted"
        if distribution and (deleted or gone):
            record["invalidation"] = invalidate(distribution, [*keys, *deleted])
        return _done(record, started)
    except Exception as exc:  # logged, then raised: an async invocation that fails is retried
        record.update(level="ERROR", error=repr(exc))
        _done(record, started)
        raise


def stored_specs(s3, bucket: str) -> list[str]:
    """The size specs that have a folder in the bucket, without listing the originals.

    One delimited listing of the top level that jumps over every name that cannot begin a size
    folder: after 'photos/' it resumes at 'p' + the last character, so a bucket of a million
    originals under a few folders (or names) costs a few requests, never a walk of all its keys.
    """
    found: list[str] = []
    start = ""
    while True:
        kwargs = {"Bucket": bucket, "Delimiter": "/"}
        if start:
            kwargs["StartAfter"] = start
        page = s3.list_objects_v2(**kwargs)
        names = sorted(
            [c["Prefix"] for c in page.get("CommonPrefixes", [])]
            + [o["Key"] for o in page.get("Contents", [])]
        )
        for name in names:
            if name <= start:
                continue
            if name.endswith("/") and derived_spec(name + "x"):
                found.append(name[:-1])
                start = name + LAST
                continue
            viable = _SPEC_PREFIX.match(name).end()
            if viable < len(name):  # nothing that starts like this can be a size folder
                start = name[: viable + 1] + LAST
            else:  # a file named like the start of one ('300x200'), or a folder that is not a size
                start = name + LAST if name.endswith("/") else name
        if not page.get("IsTruncated"):
            return found


def reconcile(s3, bucket: str, key: str, specs: list[str]) -> list[str]:
    """Delete the derived objects of key that no longer show it; the keys deleted."""
    if not specs:  # no size folder in the bucket: nothing to look up
        return []
    current = _etag_listed(s3, bucket, key)

    def stale(spec: str) -> str:
        candidate = f"{spec}/{key}"
        try:
            head = s3.head_object(Bucket=bucket, Key=candidate)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return ""
            raise
        source = (head.get("Metadata") or {}).get("source-etag", "")
        if not source:  # not written by the resize function: never ours to delete
            return ""
        return candidate if source != current else ""

    with ThreadPoolExecutor(HEAD_THREADS) as pool:
        doomed = [k for k in pool.map(stale, specs) if k]
    deleted: list[str] = []
    for start in range(0, len(doomed), 1000):
        batch = [{"Key": k} for k in doomed[start : start + 1000]]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", [])
        failed = {e.get("Key") for e in errors}
        deleted += [o["Key"] for o in batch if o["Key"] not in failed]
        if errors:
            said = "; ".join(
                f"{e.get('Key')}: {e.get('Code')} {e.get('Message', '')}".strip() for e in errors[:5]
            )
            raise CleanupFailed(f"S3 did not delete {len(errors)} derived object(s): {said}")
    return deleted


def _etag_listed(s3, bucket: str, key: str) -> str:
    """The original's ETag ('' when it is gone), from a listing: needs s3:ListBucket only."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    if listed and listed[0]["Key"] == key:  # the exact key sorts first among its prefix's
        return str(listed[0].get("ETag", "")).strip('"')
    return ""


def invalidate(distribution: str, keys: list[str]) -> str:
    """One CloudFront invalidation of the keys' paths; its id.

    Signed here with botocore's SigV4 rather than through a CloudFront client: the zip carries
    the SDK models of S3 only (CloudFront's would add half a megabyte for one call).
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.httpsession import URLLib3Session

    paths = sorted({quote("/" + k, safe=URL_SAFE) for k in keys})  # as the function writes URLs
    items = "".join(f"<Path>{escape(p)}</Path>" for p in paths)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/{CLOUDFRONT_API}/">'
        f"<Paths><Quantity>{len(paths)}</Quantity><Items>{items}</Items></Paths>"
        f"<CallerReference>cleanup-{uuid.uuid4()}</CallerReference></InvalidationBatch>"
    )
    base = (
        os.environ.get("AWS_ENDPOINT_URL_CLOUDFRONT")
        or os.environ.get("AWS_ENDPOINT_URL")
        or "https://cloudfront.amazonaws.com"
    ).rstrip("/")
    url = f"{base}/{CLOUDFRONT_API}/distribution/{quote(distribution, safe='')}/invalidation"
    credentials = boto3.Session().get_credentials().get_frozen_credentials()
    session = URLLib3Session(timeout=10)
    for attempt in range(3):
        request = AWSRequest("POST", url, data=body.encode(), headers={"Content-Type": "text/xml"})
        SigV4Auth(credentials, "cloudfront", "us-east-1").add_auth(request)  # CloudFront signs in us-east-1
        answer = session.send(request.prepare())
        text = answer.content.decode("utf-8", "replace")
        if answer.status_code in (200, 201):
            found = re.search(r"<Id>([^<]+)</Id>", text)
            return found.group(1) if found else ""
        if (answer.status_code < 500 and "Throttl" not in text) or attempt == 2:
            code = re.search(r"<Code>([^<]+)</Code>", text)
            raise RuntimeError(
                f"CreateInvalidation answered {answer.status_code} {code.group(1) if code else text[:200]}"
            )
        time.sleep(0.5 * 2**attempt)
    return ""  # pragma: no cover - the loop returns or raises


def _done(record: dict, started: float, **extra) -> dict:
    record.update(extra)
    record["ms"] = round((time.perf_counter() - started) * 1000, 2)
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
    return {k: record[k] for k in ("key", "deleted", "ignored", "invalidation") if k in record}
