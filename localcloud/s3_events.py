"""S3 -> EventBridge -> Lambda as AWS does it: the event's shape, rule matching, asynchronous delivery.

With ``EventBridgeConfiguration`` on a bucket, S3 sends every object event to the account's
default event bus; each ENABLED rule whose pattern matches invokes its targets. moto 5.2 sends a
non-AWS shape (``eTag``, a Unix ``time``, ``reason`` "ObjectCreated", no ``deletion-type``, a
fixed sequencer), synchronously inside the S3 request, to every bus's rules, and cannot deliver
to a Lambda target. ``install`` replaces that sender: the event is built as AWS documents it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html) while the request runs,
then delivered on a thread (S3 does not wait), and a Lambda target is invoked asynchronously
(``moto_lambda.invoke_async``: Lambda's retries of throttles and function errors) when the
function's resource policy lets ``events.amazonaws.com`` invoke it from that rule, as on AWS.
Other target types go to moto's own delivery.

``apply_bucket_properties`` gives a CloudFormation bucket its NotificationConfiguration
(EventBridge) and LifecycleConfiguration, which moto's model ignores.
"""

import copy
import fnmatch
import itertools
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.s3 import notifications

from localcloud import moto_lambda, patching

_patches = patching.Patches("s3_events")
log = logging.getLogger("localcloud")
_sequence = itertools.count()
S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete": "DeleteObject",
    "s3:ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
    "s3:LifecycleExpiration:Delete": "Lifecycle Expiration",
    "s3:LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
}


def install() -> None:
    """Send S3's EventBridge events as AWS does (idempotent)."""
    with _patches.installing():
        if not _patches.active:
            from moto.awslambda.models import LambdaFunction
            from moto.awslambda.policy import Policy
            from moto.events.models import Rule
            from moto.s3.models import NotificationConfiguration

            for cls, attribute in (
                (LambdaFunction, "policy"),
                (Policy, "statements"),
                (Rule, "state"),
                (Rule, "targets"),
                (Rule, "event_pattern"),
                (NotificationConfiguration, "event_bridge"),
            ):
                patching.require_instance_attribute(cls, attribute)
            patching.check(notifications, "_detail_type", "event_name")
            expect = "account_id, bucket, event_name, key"
            _patches.set(notifications, "_send_event_bridge_message", _send, expect=expect)
            from moto.s3.responses import S3Response

            original = patching.check(S3Response, "get_bucket_notification", "self")
            _patches.set(S3Response, "get_bucket_notification", _showing(original), expect="self")


def uninstall() -> None:
    with _patches.lock:
        _patches.undo()


def _showing(original: Any) -> Any:
    """GetBucketNotificationConfiguration, with the EventBridgeConfiguration moto leaves out."""

    def get_bucket_notification(self: Any) -> Any:
        status, headers, body = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return status, headers, body
        text = body.decode() if isinstance(body, bytes) else body
        if "<NotificationConfiguration" not in text or "</NotificationConfiguration>" not in text:
            text = f'<NotificationConfiguration xmlns="{S3_XMLNS}"></NotificationConfiguration>'
        text = text.replace(
            "</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>"
        )
        return status, headers, text.encode() if isinstance(body, bytes) else text

    return get_bucket_notification


def event_of(account_id: str, bucket: Any, event_name: str, key: Any) -> dict[str, Any]:
    """The EventBridge event S3 sends for event_name on key (AWS's documented shape)."""
    detail_type = notifications._detail_type(event_name)
    sequencer = f"{time.time_ns():016X}{next(_sequence) % 256:02X}"
    obj: dict[str, Any] = {"key": key.name}
    if detail_type == "Object Created":
        obj.update(size=key.size, etag=key.etag.replace('"', ""))
    if getattr(key, "version_id", None) and bucket.is_versioned:
        obj["version-id"] = key.version_id
    obj["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": REASONS.get(event_name, event_name.split(":")[1]),
    }
    if detail_type == "Object Deleted":
        marker = event_name.endswith("DeleteMarkerCreated")
        detail["deletion-type"] = "Delete Marker Created" if marker else "Permanently Deleted"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    try:
        event = event_of(account_id, bucket, event_name, key)
    except Exception:  # S3's request never fails because of its notification
        log.exception("could not build the EventBridge event of %s", event_name)
        return
    threading.Thread(target=deliver, args=(account_id, event), daemon=True).start()


def deliver(account_id: str, event: dict[str, Any]) -> None:
    """Put event on the default bus of its region: each matching ENABLED rule's targets get it."""
    from moto.events.models import events_backends

    try:
        bus = events_backends[account_id][event["region"]].event_buses.get("default")
        rules = list(bus.rules.values()) if bus is not None else []
    except Exception:  # delivery is asynchronous: nobody to answer, so logged
        log.exception("EventBridge is not available for %s", event["region"])
        return
    for rule in rules:
        try:
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
                continue
            others = []
            for target in rule.targets:
                if ":lambda:" in target["Arn"]:
                    _to_lambda(account_id, rule, target, event)
                else:
                    others.append(target)
            if others:
                _to_moto_targets(rule, others, event)
        except Exception:  # one rule's failure (its FailedInvocations on AWS) spares the others
            log.exception("EventBridge rule %s could not deliver an S3 event", getattr(rule, "name", "?"))


def _to_lambda(account_id: str, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    from moto.awslambda.utils import get_backend

    arn = target["Arn"]
    fn = get_backend(arn.split(":")[4] or account_id, arn.split(":")[3]).get_function(arn)
    if not permits(fn, rule.arn):
        log.warning(
            "rule %s may not invoke %s (no lambda:InvokeFunction for events.amazonaws.com)", rule.arn, arn
        )
        return
    payload = event
    if target.get("Input"):
        payload = json.loads(target["Input"])
    moto_lambda.invoke_async(fn, json.dumps(payload))


def permits(fn: Any, rule_arn: str) -> bool:
    """Whether the function's resource policy lets EventBridge invoke it for rule_arn."""
    for statement in fn.policy.statements if fn.policy is not None else []:
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect", "Allow") != "Allow" or service != "events.amazonaws.com":
            continue
        if not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
            continue
        condition = statement.get("Condition") or {}
        like = (condition.get("ArnLike") or {}).get("AWS:SourceArn")
        equals = (condition.get("ArnEquals") or {}).get("AWS:SourceArn")
        if like is None and equals is None:
            return True
        if equals == rule_arn or (like is not None and fnmatch.fnmatchcase(rule_arn, like)):
            return True
    return False


def _to_moto_targets(rule: Any, targets: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """moto's delivery for the target types it has (log groups, SQS...), which reads a Unix time."""
    legacy = copy.deepcopy(event)
    legacy["time"] = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    view = copy.copy(rule)
    view.targets = targets
    view.send_to_targets(legacy, transform_input=False)


def apply_bucket_properties(backend: Any, name: str, props: dict[str, Any]) -> None:
    """A CloudFormation bucket's EventBridge notification and lifecycle rules (absent: removed)."""
    notification = props.get("NotificationConfiguration") or {}
    enabled = (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")
    if str(enabled).lower() == "true":
        backend.put_bucket_notification_configuration(name, {"EventBridgeConfiguration": {}})
    else:
        backend.put_bucket_notification_configuration(name, {})
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_lifecycle_configuration(name, [_lifecycle_rule(r) for r in rules])
    else:
        backend.delete_bucket_lifecycle(name)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle Rule as the PutBucketLifecycleConfiguration body moto parses."""
    tags = [{"Key": t["Key"], "Value": str(t["Value"])} for t in rule.get("TagFilters") or []]
    prefix = rule.get("Prefix")
    if len(tags) + (prefix is not None) > 1:
        filter_: dict[str, Any] = {"And": {"Tag": tags, **({"Prefix": prefix} if prefix is not None else {})}}
    elif tags:
        filter_ = {"Tag": tags[0]}
    else:
        filter_ = {"Prefix": prefix or ""}
    out: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"], "Filter": filter_}
    if rule.get("ExpirationInDays") is not None:
        out["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    return out
