"""One JSON shape per object: what `resizer … --output json` prints and the console's /api/* answer.

``plain`` turns any operations result into JSON values (dataclasses as dicts, datetimes as ISO
8601, enums as their values, bytes as their length); the named shapes below are used where an
object needs more (a property such as ``failed``) or less (a secret, a local file path) than
its fields. The CLI and the console both call these, so the same state gives the same JSON.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: rendering JSON loads no operation module
    from operations import cdn, deploy, destroy, images, invoke, logs, metrics, package, stack, status

MASK = "****"


def plain(value: Any) -> Any:
    """Data for JSON: dataclasses as dicts, datetimes as ISO 8601, enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return len(value)
    return value


def stack_status(result: status.StackStatus, secret: set[str] | frozenset[str] = frozenset()) -> dict:
    """`resizer status` and /api/status; NoEcho parameters (``secret``) as ****, whatever AWS says."""
    body = plain(result)
    body["parameters"] = {k: (MASK if k in secret else v) for k, v in result.parameters.items()}
    if result.cleanup_rule is not None:
        body["cleanup_rule"]["enabled"] = result.cleanup_rule.enabled
    return body


def image_listing(bucket: str, found: list[images.ImageObject]) -> dict:
    return {"bucket": bucket, "images": plain(found)}


def stale_listing(bucket: str, found: list[images.Stale]) -> dict:
    return {"bucket": bucket, "stale": plain(found)}


def removal(found: images.Removal) -> dict:
    """What followed a delete: the derived keys that went and the CDN invalidation (or why none)."""
    return {
        "derived": found.derived,
        "invalidation": plain(found.invalidation),
        "not_invalidated": found.not_invalidated,
    }


def uploaded(bucket: str, stored: images.Uploaded) -> dict:
    return {
        "bucket": bucket,
        "key": stored.key,
        "size": stored.size,
        "last_modified": plain(stored.last_modified),
        "etag": stored.etag,
        "replaced": stored.replaced,
    } | removal(stored.removal)


def deleted(key: str, found: images.Removal) -> dict:
    return {"deleted": key} | removal(found)


def purged(spec: str, stale: bool, found: images.Removal) -> dict:
    return {
        "spec": spec,
        "stale": stale,
        "deleted": len(found.deleted),
        "keys": found.deleted,
    } | removal(found)


def cdn_status(delivery: cdn.Delivery, found: cdn.Distribution) -> dict:
    return {"cdn_url": delivery.cdn_url, **plain(found)}


def invalidated(distribution: str, found: cdn.Invalidation) -> dict:
    return {"distribution": distribution, "invalidation": plain(found)}


def metrics_report(report: metrics.MetricsReport) -> dict:
    return plain(report) | {
        "error_rate": report.error_rate,
        "server_error_rate": report.server_error_rate,
        "cleanup_error_rate": report.cleanup_error_rate,
    }


def log_event(event: logs.LogEvent) -> dict:
    """One log line: as read, its JSON (if it is JSON), its level and request id, and which of the
    stack's functions wrote it (resize, cleanup; '' when read from one log group by name)."""
    return {
        "function": event.function,
        "timestamp": event.timestamp.isoformat(),
        "stream": event.stream,
        "message": event.message,
        "json": event.json,
        "event_id": event.event_id,
        "level": event.level,
        "request_id": event.request_id,
    }


def invoke_result(result: invoke.InvokeResult) -> dict:
    """`resizer invoke|resize` and the console's invoke/resize: the answer, REPORT and log lines."""
    http = result.http
    payload = result.payload_json
    return {
        "request_id": result.request_id,
        "function_error": result.function_error,
        "payload": payload if payload is not None else result.payload.decode("utf-8", "replace"),
        "report": plain(result.report),
        "logs": [log_event(e) for e in result.log],
        "http": None
        if http is None
        else {
            "status": http.status,
            "headers": http.headers,
            "body_bytes": len(http.body),
            "content_type": http.content_type,
        },
    }


def stack_event(event: stack.StackEvent) -> dict:
    return plain(event) | {"failed": event.failed}


def settled(event: stack.Settled) -> dict:
    return {
        "stack": event.stack,
        "status": event.status,
        "ok": event.ok,
        "root_cause": None if event.root_cause is None else stack_event(event.root_cause),
    }


def deploy_plan(planned: deploy.Plan) -> dict:
    """A reviewed change set (NoEcho values are already **** in it); no local file paths."""
    artifact = planned.artifact
    return {
        "stack": planned.stack,
        "change_set_type": planned.change_set_type,
        "change_set_id": planned.change_set_id,
        "no_changes": planned.no_changes,
        "skipped": planned.skipped,
        "changes": plain(planned.changes),
        "parameters": dict(planned.parameters),
        "parameter_changes": plain(planned.parameter_changes),
        "retained_buckets": list(planned.retained_buckets),
        "adopted_bucket": planned.adopted_bucket,
        "artifact": None
        if artifact is None
        else {
            "bucket": artifact.bucket,
            "key": artifact.key,
            "present": artifact.present,
            "platform": artifact.artifact.platform,
            "sha256": artifact.artifact.sha256,
            "size": artifact.artifact.size,
        },
    }


def packaged(artifact: package.Artifact, published: package.Published | None) -> dict:
    """A built zip (where it is, what it holds) and, when published, where it went in S3."""
    return {
        "zip": str(artifact.path),
        "platform": artifact.platform,
        "size": artifact.size,
        "files": artifact.files,
        "sha256": artifact.sha256,
        "published": None
        if published is None
        else {"bucket": published.bucket, "key": published.key, "uploaded": published.uploaded},
    }


def destroy_plan(planned: destroy.DestroyPlan) -> dict:
    return plain(planned)


def removed(item: destroy.Removed) -> dict:
    return plain(item)
