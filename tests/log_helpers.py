"""put_log_lines: real CloudWatch Logs events for tests, into a group and stream made if missing."""

import contextlib
from datetime import datetime
from typing import Any

import boto3

STREAM = "2026/12/01/[$LATEST]abc"


def put_log_lines(
    group: str, *messages: str, at: datetime, stream: str = STREAM, client: Any = None, once: bool = False
) -> None:
    """Put ``messages`` into ``group``/``stream`` one millisecond apart from ``at``, making the group
    and the stream if they are missing. ``client`` defaults to boto3's logs client (the in-process
    moto); ``once`` puts only when the stream is new (a cloud shared by several tests keeps its logs)."""
    client = client or boto3.client("logs")
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=group)
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except client.exceptions.ResourceAlreadyExistsException:
        if once:
            return
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": int(at.timestamp() * 1000) + i, "message": m} for i, m in enumerate(messages)
        ],
    )
