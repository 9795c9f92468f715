"""operations.jsonable: the JSON both front ends give (values JSON can carry, secrets masked, no
local paths), whatever object it is handed."""

import json
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from operations import jsonable, package, stack, status
from operations.deploy import Change, Plan
from operations.logs import LogEvent

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Color(Enum):
    RED = "red"


def test_plain_makes_json_values() -> None:
    event = stack.StackEvent("e", NOW, "Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE")
    value = jsonable.plain({"when": NOW, 3: (Color.RED, {b"abc"}), "event": event})
    assert value == {
        "when": "2026-12-01T08:00:00+00:00",
        "3": ["red", [3]],
        "event": {
            "event_id": "e",
            "timestamp": "2026-12-01T08:00:00+00:00",
            "logical_id": "Bucket",
            "resource_type": "AWS::S3::Bucket",
            "status": "CREATE_COMPLETE",
            "reason": "",
            "physical_id": "",
        },
    }
    json.dumps(value)


def test_status_masks_secret_parameters_whatever_the_endpoint_says() -> None:
    result = status.StackStatus(
        "s", "CREATE_COMPLETE", "", NOW, parameters={"SigningKey": "plain!", "Memory": "1"}
    )
    body = jsonable.stack_status(result, {"SigningKey"})
    assert body["parameters"] == {"SigningKey": "****", "Memory": "1"} and "plain!" not in json.dumps(body)
    assert body["updated"] == "2026-12-01T08:00:00+00:00"


def test_a_log_event_carries_its_level_and_request() -> None:
    body = jsonable.log_event(LogEvent(NOW, '{"level": "error", "request_id": "r1"}', "s", "7", "cleanup"))
    assert body == {
        "function": "cleanup",
        "timestamp": "2026-12-01T08:00:00+00:00",
        "stream": "s",
        "message": '{"level": "error", "request_id": "r1"}',
        "json": {"level": "error", "request_id": "r1"},
        "event_id": "7",
        "level": "ERROR",
        "request_id": "r1",
    }
    assert jsonable.log_event(LogEvent(NOW, "x"))["function"] == ""  # read from a group by name


def test_the_cleanup_rule_says_whether_it_is_enabled() -> None:
    rule = status.RuleInfo("resizer-CleanupRule-1", "DISABLED")
    body = jsonable.stack_status(status.StackStatus("s", "CREATE_COMPLETE", "", NOW, cleanup_rule=rule))
    assert body["cleanup_rule"] == {
        "name": "resizer-CleanupRule-1",
        "state": "DISABLED",
        "description": "",
        "enabled": False,
    }
    assert body["cleanup"] is None
    assert jsonable.stack_status(status.StackStatus("s", "CREATE_COMPLETE", "", NOW))["cleanup_rule"] is None


def test_a_plan_shows_no_local_path() -> None:
    artifact = package.Artifact(Path("/home/me/secret/function.zip"), "a" * 64, 10, "arm64", 2)
    published = package.Published("bucket", "functions/a.zip", False, artifact, present=False)
    planned = Plan(
        "s",
        "UPDATE",
        "cs-1",
        [Change("Modify", "Function", "AWS::Lambda::Function", "False")],
        {"SigningKey": "****"},
        published,
    )
    body = jsonable.deploy_plan(planned)
    assert "/home/me" not in json.dumps(body) and body["no_changes"] is False
    assert body["artifact"] == {
        "bucket": "bucket",
        "key": "functions/a.zip",
        "present": False,
        "platform": "arm64",
        "sha256": "a" * 64,
        "size": 10,
    }
    assert body["changes"] == [
        {
            "action": "Modify",
            "logical_id": "Function",
            "resource_type": "AWS::Lambda::Function",
            "replacement": "False",
        }
    ]
