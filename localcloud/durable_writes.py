"""Which AWS API requests change state, and making each change durable before it is answered.

``plan`` classifies a request (after its body was read): an S3 object write names the objects
(and multipart uploads) it touches, which are journaled; any other write (a deploy, a bucket's
configuration, a function's code) asks for a snapshot; reads and invocations need nothing now
(their logs and metrics reach the periodic snapshot). ``persist`` runs after moto answered and
before the answer is sent.
"""

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import unescape

from localcloud import aws_errors

_READ_ACTIONS = re.compile(
    r"^(Describe|Get|List|Lookup|Filter|Search|Test|Validate|Estimate|Detect|Invoke|Assume|Decode|"
    r"Simulate|StartQuery|StopQuery|PutLogEvents|PutMetricData|SelectObjectContent)"
)
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")
_DELETED_KEY = re.compile(rb"<Key>([^<]*)</Key>")


@dataclass
class Plan:
    """What a request needs once moto has handled it."""

    s3_changes: list[tuple[str, str, str]] = field(default_factory=list)
    snapshot: bool = False
    new_upload_in: str = ""  # CreateMultipartUpload: the bucket whose new upload id is in the answer

    @property
    def anything(self) -> bool:
        return bool(self.s3_changes or self.snapshot or self.new_upload_in)


def plan(environ: dict, body: bytes) -> Plan:
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return Plan()
    service = aws_errors.service_of(environ)
    if service == "s3":
        return _s3_plan(environ, method, body)
    if service == "lambda" and method == "POST" and "/invocations" in environ.get("PATH_INFO", ""):
        return Plan()
    action = _action(environ, body)
    if action and _READ_ACTIONS.match(action):
        return Plan()
    return Plan(snapshot=True)


def _action(environ: dict, body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return ""


def _s3_plan(environ: dict, method: str, body: bytes) -> Plan:
    host = environ.get("HTTP_HOST", "").lower().rsplit(":", 1)[0]
    if host.endswith(".localhost") and host != "s3.localhost":
        return Plan(snapshot=True)  # virtual-hosted style: not parsed here, so save everything
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    path = unquote(raw.split("?", 1)[0])
    bucket, _, key = path.lstrip("/").partition("/")
    params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not bucket:
        return Plan()
    if not key:
        if method == "POST" and "delete" in params:
            if b"&#" in body or b"CDATA" in body:
                return Plan(snapshot=True)  # names spelled in ways the pattern below does not read
            entities = {"&quot;": '"', "&apos;": "'"}
            names = [unescape(m.decode("utf-8"), entities) for m in _DELETED_KEY.findall(body)]
            return Plan(s3_changes=[("key", bucket, name) for name in names])
        return Plan(snapshot=True)
    if method == "POST" and "uploads" in params:
        return Plan(new_upload_in=bucket)
    changes = [("key", bucket, key)]
    if "uploadId" in params:
        changes.append(("upload", bucket, params["uploadId"][0]))
    return Plan(s3_changes=changes)


def persist(store: Any, work: Plan, status: int, answer: bytes) -> None:
    """Make what the request changed durable (SaveFailed when it cannot be)."""
    if status >= 400 or not work.anything:
        return
    changes = list(work.s3_changes)
    if work.new_upload_in:
        found = _UPLOAD_ID.search(answer)
        if found:
            changes.append(("upload", work.new_upload_in, found.group(1).decode()))
    if work.snapshot:
        store.checkpoint()
    elif changes:
        store.record_s3(changes)
