"""logs.follow with StartLiveTail: history first, then the live session, then polling; no duplicates."""

import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from operations import logs
from operations.aws import Clients


@pytest.fixture
def group(moto):
    client = boto3.client("logs")
    client.create_log_group(logGroupName="/aws/lambda/f")
    client.create_log_stream(logGroupName="/aws/lambda/f", logStreamName="s")
    return client


def test_live_follow_yields_each_event_once_across_history_live_and_polling(group):
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": f"line {i}"} for i in range(3)]
    group.put_log_events(logGroupName="/aws/lambda/f", logStreamName="s", logEvents=events)
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 4

    followed = logs.follow(
        Clients(boto3.Session(region_name="us-east-1")),
        "/aws/lambda/f",
        start=datetime.now(UTC) - timedelta(minutes=1),
        sleep=lambda s: None,
        stop=stop,
        live=True,
    )
    assert [e.message for e in followed] == ["line 0", "line 1", "line 2"]


def test_live_follow_falls_back_to_polling_when_there_is_no_such_group(group):
    followed = logs.follow(
        Clients(boto3.Session(region_name="us-east-1")),
        "/aws/lambda/missing",
        start=datetime.now(UTC) - timedelta(minutes=1),
        sleep=lambda s: None,
        stop=iter([False, True]).__next__,
        live=True,
    )
    assert list(followed) == []


def test_live_follow_says_when_cloudwatch_samples_the_tail(group, monkeypatch):
    # CloudWatch samples a live tail over 500 events/s and says so in each update's sessionMetadata.
    now = int(time.time() * 1000)
    updates = [
        {"sessionStart": {}},
        {"sessionUpdate": {"sessionMetadata": {"sampled": False}, "sessionResults": [_raw(now, "a")]}},
        {"sessionUpdate": {"sessionMetadata": {"sampled": True}, "sessionResults": [_raw(now + 1, "b")]}},
        {"sessionUpdate": {"sessionMetadata": {"sampled": True}, "sessionResults": [_raw(now + 2, "c")]}},
        {"sessionUpdate": {"sessionMetadata": {"sampled": False}, "sessionResults": []}},
    ]
    clients = Clients(boto3.Session(region_name="us-east-1"))
    monkeypatch.setattr(
        clients.client("logs"), "start_live_tail", lambda **kw: {"responseStream": iter(updates)}
    )
    said: list[bool] = []
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > len(updates)

    followed = logs.follow(
        clients,
        "/aws/lambda/f",
        start=datetime.now(UTC) - timedelta(minutes=1),
        sleep=lambda s: None,
        stop=stop,
        live=True,
        on_sampled=said.append,
    )
    assert [e.message for e in followed] == ["a", "b", "c"]
    assert said == [True, False], "once when sampling starts, once when it stops"


def _raw(timestamp: int, message: str) -> dict:
    return {"logStreamName": "s", "timestamp": timestamp, "message": message, "ingestionTime": timestamp}
