"""A log line's level, error and request id (one rule for the CLI and the console), and follow
choosing how to tail: StartLiveTail on AWS, polling on any other endpoint."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from operations import logs
from operations.logs import LogEvent

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RID = "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


def line(message: str) -> LogEvent:
    return LogEvent(NOW, message, "stream", "id")


@pytest.mark.parametrize(
    ("message", "level", "error"),
    [
        ('{"level": "error", "message": "boom"}', "ERROR", True),
        ('{"level": "CRITICAL"}', "CRITICAL", True),
        ('{"level": "warn"}', "WARN", False),
        ('{"message": "no level"}', "", False),
        ("[ERROR]\t2026-12-01T08:00:00Z\tabc\tRuntimeError: boom", "ERROR", True),
        ("2026-12-01T08:00:00Z abc Task timed out after 30.03 seconds", "ERROR", True),
        ("Traceback (most recent call last):", "ERROR", True),
        ("  during handling, Traceback follows", "ERROR", True),
        ("an ERROR here", "ERROR", True),
        ("ERRORS are words too", "", False),
        (f"START RequestId: {RID} Version: $LATEST", "", False),
    ],
)
def test_level_and_error(message: str, level: str, error: bool) -> None:
    assert (line(message).level, line(message).is_error) == (level, error)


def test_request_id_from_the_runtime_or_the_json() -> None:
    assert line(f"REPORT RequestId: {RID}\tDuration: 1 ms").request_id == RID
    assert line('{"request_id": "abc", "level": "INFO"}').request_id == "abc"
    assert line('{"requestId": "def"}').request_id == "def"
    assert line("plain text").request_id == ""


def test_json_without_its_emf_metadata() -> None:
    emf = line('{"status": 200, "_aws": {"Timestamp": 1, "CloudWatchMetrics": []}}')
    assert emf.json_without_emf == {"status": 200}
    assert "_aws" in (emf.json or {}), "the parsed JSON itself keeps everything"
    assert line('{"status": 404}').json_without_emf == {"status": 404}
    assert line("plain text").json_without_emf is None
    assert line("[1, 2]").json_without_emf is None


class Logs:
    """A logs client that records which calls follow makes; FilterLogEvents answers one line."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_paginator(self, name: str) -> "Logs":
        self.calls.append(name)
        return self

    def paginate(self, **query: Any) -> list[dict]:
        return [{"events": [{"timestamp": int(NOW.timestamp() * 1000), "message": "hello", "eventId": "1"}]}]

    def describe_log_groups(self, **query: Any) -> dict:
        self.calls.append("describe_log_groups")
        return {
            "logGroups": [{"logGroupName": "/aws/lambda/f", "arn": "arn:aws:logs:us-east-1:1:log-group:x:*"}]
        }

    def start_live_tail(self, **query: Any) -> dict:
        self.calls.append("start_live_tail")
        return {"responseStream": iter([{"sessionUpdate": {"sessionResults": []}}])}


class Clients:
    def __init__(self, endpoint_url: str | None) -> None:
        self.endpoint_url = endpoint_url
        self.logs = Logs()

    def client(self, service: str, *, retries: bool = True) -> Logs:
        return self.logs


@pytest.mark.parametrize(("endpoint", "live"), [(None, True), ("http://127.0.0.1:4566", False)])
def test_follow_tails_live_on_aws_and_polls_elsewhere(endpoint: str | None, live: bool) -> None:
    clients = Clients(endpoint)
    stops = iter([False, True])
    found = list(
        logs.follow(
            clients,
            "/aws/lambda/f",
            start=NOW - timedelta(minutes=1),
            sleep=lambda s: None,
            stop=lambda: next(stops),
        )
    )
    assert [e.message for e in found] == ["hello"]
    assert ("start_live_tail" in clients.logs.calls) is live
    forced = Clients(endpoint)
    list(logs.follow(forced, "/aws/lambda/f", start=NOW, sleep=lambda s: None, stop=lambda: True, live=False))
    assert "start_live_tail" not in forced.logs.calls
