"""The cleanup function in the console: the Overview's card and recent errors, the logs page's
function selector and /api/logs?function=, the metrics page's cleanup chart; older stacks show none."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.console.conftest import Browser, Cloud
from tests.log_helpers import put_log_lines

CLEANUP_GROUP = "/aws/lambda/resizer-cleanup"
CLEANUP_ERROR = "[ERROR] cleanup could not delete 300x200/photos/gone.png"


@pytest.fixture
def cleanup_lines(cloud: Cloud) -> None:
    """A cleanup run with an error line, in the cleanup's own group (text lines, not JSON)."""
    put_log_lines(
        CLEANUP_GROUP,
        "cleanup started",
        CLEANUP_ERROR,
        at=datetime.now(UTC) - timedelta(seconds=20),
        stream="2026/12/01/[$LATEST]cleanup1",
        client=cloud.client("logs"),
        once=True,
    )


def test_the_overview_shows_the_cleanup_and_its_errors_with_the_resizers(
    browser: Browser, cleanup_lines
) -> None:
    page = browser.page("/").text

    assert 'id="cleanup"' in page and "resizer-cleanup" in page
    assert 'id="cleanup-rule-state">ENABLED<' in page
    assert 'id="cleanup-health"' in page and "Cleanup invocations" in page
    assert f'<span class="fn fn-cleanup">cleanup</span> <code>{CLEANUP_ERROR}</code>' in page
    assert '<span class="fn fn-resize">resize</span>' in page, "the resize function's error lines too"


def test_api_logs_by_function(browser: Browser, cleanup_lines) -> None:
    everything = browser.client.get("/api/logs", params={"since": "1d"}).json()
    cleanup = browser.client.get("/api/logs", params={"since": "1d", "function": "cleanup"}).json()
    resize = browser.client.get("/api/logs", params={"since": "1d", "function": "resize"}).json()

    assert everything["groups"] == {"resize": "/aws/lambda/resizer-resize", "cleanup": CLEANUP_GROUP}
    assert [e["message"] for e in cleanup["events"]] == ["cleanup started", CLEANUP_ERROR]
    assert cleanup["groups"] == {"cleanup": CLEANUP_GROUP} and cleanup["group"] == CLEANUP_GROUP
    assert {e["function"] for e in resize["events"]} == {"resize"}
    assert {e["function"] for e in everything["events"]} == {"resize", "cleanup"}
    assert len(everything["events"]) == len(resize["events"]) + 2
    stamps = [e["timestamp"] for e in everything["events"]]
    assert stamps == sorted(stamps), "interleaved by time"


def test_a_bad_function_is_refused(browser: Browser) -> None:
    api = browser.client.get("/api/logs", params={"function": "thumbs"})
    stream = browser.client.get("/logs/stream", params={"function": "thumbs"})
    page = browser.page("/logs", params={"function": "thumbs"})

    assert api.status_code == 400 and "unknown function" in api.json()["message"]
    assert stream.status_code == 400
    assert page.status_code == 200 and "unknown function" in page.text and "data-log-stream" not in page.text


def test_the_logs_page_selects_the_function_and_streams_its_lines(browser: Browser, cleanup_lines) -> None:
    page = browser.page("/logs", params={"function": "cleanup", "since": "1h"}).text
    assert '<option value="cleanup" selected>' in page and '<select id="function" name="function">' in page
    assert f'<code class="fn-cleanup">{CLEANUP_GROUP}</code>' in page
    assert "/aws/lambda/resizer-resize" not in page
    assert 'data-log-stream="/logs/stream?function=cleanup&amp;since=1h"' in page

    from tests.console.conftest import read_events

    with browser.client.stream("GET", "/logs/stream?since=1h&function=cleanup") as stream:
        events = read_events(stream, until="never", limit=2)
    lines = [json.loads(data) for name, data in events if name == "line"]
    assert [(line["function"], line["message"]) for line in lines] == [
        ("cleanup", "cleanup started"),
        ("cleanup", CLEANUP_ERROR),
    ]


def test_the_metrics_page_charts_the_cleanup(browser: Browser) -> None:
    page = browser.page("/metrics", params={"window": "1h"}).text
    api = browser.client.get("/api/metrics", params={"window": "1h"}).json()

    assert "Cleanup: runs, errors and throttles" in page and 'id="cleanup-error-rate"' in page
    assert api["cleanup_function"] == "resizer-cleanup" and "cleanup_error_rate" in api
    assert {"cleanup_invocations", "cleanup_errors"} <= {s["key"] for s in api["series"]}
