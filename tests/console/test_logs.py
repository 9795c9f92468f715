"""Logs: the live tail over SSE yields the function's lines; the --since semantics are the CLI's."""

import json

from operations import logs as logs_op
from tests.console.conftest import REQUEST_ID, Browser, read_events


def test_the_stream_yields_log_lines_from_cloudwatch(browser: Browser) -> None:
    with browser.client.stream("GET", "/logs/stream?since=1h&function=resize") as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        events = read_events(stream, until="never", limit=5)
    lines = [json.loads(data) for name, data in events if name == "line"]
    assert len(lines) == 5
    assert lines[0]["marker"] == ["START", REQUEST_ID] and lines[-1]["marker"] == ["REPORT", REQUEST_ID]
    assert lines[1]["level"] == "ERROR" and "/300x200/missing.jpg" in lines[1]["message"]
    assert {line["function"] for line in lines} == {"resize"}


def test_the_stream_stops_following_when_asked_and_passes_the_filter(browser: Browser, monkeypatch) -> None:
    seen = {}

    def follow(clients, group, *, start, pattern="", sleep=None, stop=None, **kwargs):
        seen.update(group=group, pattern=pattern, start=start, stop=stop)
        yield logs_op.LogEvent(start, "one line", "s1", "e1")

    monkeypatch.setattr(logs_op, "follow", follow)
    with browser.client.stream(
        "GET", "/logs/stream?since=2h&filter=%7B%20%24.status%20%3E%3D%20400%20%7D"
    ) as s:
        events = read_events(s, until="end")
    assert [name for name, _ in events] == ["line", "end"]
    assert seen["pattern"] == "{ $.status >= 400 }"
    assert [(f.role, f.log_group) for f in seen["group"]] == [
        ("resize", "/aws/lambda/resizer-resize"),
        ("cleanup", "/aws/lambda/resizer-cleanup"),
    ]
    assert seen["stop"]() is True  # the producer was told to stop once the stream was over


def test_a_bad_since_is_refused(browser: Browser) -> None:
    reply = browser.client.get("/logs/stream?since=yesterday")
    assert reply.status_code == 400 and "10m, 2h" in reply.json()["hint"]
    page = browser.page("/logs?since=yesterday")
    assert (
        page.status_code == 200 and "cannot read the time" in page.text and "data-log-stream" not in page.text
    )


def test_a_line_names_its_request_and_drops_the_emf_metadata() -> None:
    from datetime import UTC, datetime

    from console.routes.logs import line

    raw = '{"level": "WARN", "request_id": "r-1", "status": 404, "_aws": {"CloudWatchMetrics": []}}'
    shown = line(logs_op.LogEvent(datetime.now(UTC), raw, "s", "e"))
    assert shown["request"] == "r-1" and shown["level"] == "WARN"
    assert json.loads(shown["message"]) == {"level": "WARN", "request_id": "r-1", "status": 404}
    report = line(logs_op.LogEvent(datetime.now(UTC), f"REPORT RequestId: {REQUEST_ID}\tDuration: 1 ms"))
    assert report["request"] == REQUEST_ID and report["marker"] == ["REPORT", REQUEST_ID]
