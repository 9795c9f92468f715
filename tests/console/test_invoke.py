"""Invoke: saved events (create, edit, delete) and a run (the function itself is faked here)."""

import base64
import json
from datetime import UTC, datetime

import pytest

from operations import invoke as invoke_op
from operations import logs as logs_op
from tests.console.conftest import REQUEST_ID, Browser, png


def test_saved_events_crud(browser: Browser, tmp_path) -> None:
    page = browser.page("/invoke").text
    assert "(built in)" in page and "300x200/sample.jpg" in page  # the default resize event
    saved = browser.post("/invoke/events", {"name": "ping", "body": '{"a": 1}'}, html=True)
    assert saved.status_code == 303 and saved.headers["location"] == "/invoke?event=ping&saved=1"
    assert "Saved <code>ping</code>" in browser.page(saved.headers["location"]).text, "a confirmation"
    assert "Saved <code>" not in browser.page("/invoke?event=ping").text
    stored = tmp_path / "events" / "ping.json"
    assert json.loads(stored.read_text()) == {"a": 1}
    assert "&#34;a&#34;: 1" in browser.page("/invoke?event=ping").text
    edited = browser.post("/invoke/events", {"name": "ping", "body": '{"a": 2}'})
    assert edited.status_code == 200 and json.loads(stored.read_text()) == {"a": 2}
    assert browser.post("/invoke/events", {"name": "ping", "body": "{nope"}).status_code == 400
    assert browser.post("/invoke/events", {"name": "../escape", "body": "{}"}).status_code == 400
    deleted = browser.post("/invoke/events/ping/delete", html=True)
    assert deleted.status_code == 303 and not stored.exists()
    assert browser.post("/invoke/events/ping/delete").status_code == 404
    resize = browser.post("/invoke/events", {"name": "resize", "body": "{}"})
    assert resize.status_code == 200 and (tmp_path / "events" / "resize.json").exists()
    browser.post("/invoke/events/resize/delete")
    assert "300x200/sample.jpg" in browser.page("/invoke?event=resize").text  # the default is back


@pytest.fixture
def fake_invoke(monkeypatch):
    calls = []

    def invoke(clients, function, payload, *, log_group=None, full_logs=True, sleep=None):
        calls.append((function, json.loads(payload), log_group))
        now = datetime.now(UTC)
        proxy = {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(png(4, 4)).decode(),
            "isBase64Encoded": True,
        }
        report = logs_op.Report(31.5, 32.0, 1024.0, 90.0, 250.25)
        lines = [
            f"START RequestId: {REQUEST_ID}",
            '{"level": "INFO", "status": 200}',
            f"REPORT RequestId: {REQUEST_ID}",
        ]
        return invoke_op.InvokeResult(
            REQUEST_ID, None, json.dumps(proxy).encode(), report, [logs_op.LogEvent(now, m) for m in lines]
        )

    monkeypatch.setattr(invoke_op, "invoke", invoke)
    return calls


def test_run_a_saved_event_shows_everything(browser: Browser, fake_invoke) -> None:
    page = browser.post("/invoke/run", {"name": "resize", "body": ""}, html=True)
    assert page.status_code == 200, page.text
    function, payload, group = fake_invoke[0]
    assert function == "resizer-resize" and group == "/aws/lambda/resizer-resize"
    assert payload["path"] == "/300x200/sample.jpg"
    text = page.text
    assert REQUEST_ID in text and "HTTP 200" in text and 'src="data:image/png;base64,' in text
    assert "31.50 ms" in text and "32 ms" in text and "90 / 1024 MB" in text and "250.25 ms" in text
    assert "&#34;level&#34;: &#34;INFO&#34;," in text  # JSON lines indented, as the CLI prints them


def test_run_json_and_resize(browser: Browser, fake_invoke) -> None:
    data = browser.post("/invoke/run", {"body": '{"hello": "world"}'}).json()
    assert fake_invoke[-1][1] == {"hello": "world"}
    assert data["request_id"] == REQUEST_ID and data["http"]["status"] == 200 and "image" not in data["http"]
    assert data["report"]["duration_ms"] == 31.5
    resized = browser.post("/invoke/resize", {"path": "x600,webp/albums/cat.jpg"}).json()
    assert fake_invoke[-1][1]["path"] == "/x600,webp/albums/cat.jpg" and resized["function_error"] is None
    assert browser.post("/invoke/run", {"body": "not json"}).status_code == 400
    assert browser.post("/invoke/resize", {"path": "/"}).status_code == 400


def test_a_new_event_starts_from_a_resize_event(browser: Browser) -> None:
    import html
    import re

    page = browser.page("/invoke?new=1").text
    body = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    event = json.loads(html.unescape(body))
    assert event["httpMethod"] == "GET" and event["pathParameters"] == {"proxy": "300x200/sample.jpg"}
    assert event["path"] == "/300x200/sample.jpg"
