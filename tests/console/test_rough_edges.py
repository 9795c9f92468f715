"""The console's rough edges from a new user's first hour: the overview's resources, alarms and
5xx answer rate, the login page's word on the token, and the live tail's sampling notice."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from localcloud import metrics as local_metrics
from operations import logs as logs_op
from tests.console.conftest import FUNCTION, Browser, read_events


def test_the_overview_lists_the_stacks_resources(browser: Browser) -> None:
    html = browser.page("/").text
    section = html[html.index('id="resources"') :]
    for expected in (
        "Function",
        "AWS::Lambda::Function",
        "ImagesBucket",
        "AWS::S3::Bucket",
        "CREATE_COMPLETE",
    ):
        assert expected in section, expected


def test_the_overview_shows_each_alarm_and_its_state(browser: Browser) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    names = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    throttles = next(n for n in names if "ThrottlesAlarm" in n)
    cloudwatch.set_alarm_state(
        AlarmName=throttles, StateValue="ALARM", StateReason="Threshold Crossed: 3 throttles"
    )
    html = browser.page("/").text
    section = html[html.index('id="alarms"') : html.index('id="resources"')]
    for logical_id in ("ErrorsAlarm", "ThrottlesAlarm", "InternalErrorsAlarm"):
        assert logical_id in section, logical_id
    assert '<span class="status bad">ALARM</span>' in section
    assert "Threshold Crossed: 3 throttles" in section
    assert section.count("INSUFFICIENT_DATA") + section.count(">OK<") == 2, (
        "the two others, as CloudWatch says"
    )


@pytest.fixture
def metrics_fidelity() -> Iterator[None]:
    """The local cloud's GetMetricData (exact dimension sets: moto's own misreads two dimensions)."""
    local_metrics.install()
    try:
        yield
    finally:
        local_metrics.uninstall()


def test_the_5xx_answer_rate_beside_lambdas_error_rate(browser: Browser, metrics_fidelity) -> None:
    # Two hours ago: inside the 3h window, outside the 1h one other tests count invocations in.
    at = datetime.now(UTC) - timedelta(hours=2)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_data(  # what the function's EMF line publishes for one 500 answer
        Namespace="Resizer",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": FUNCTION},
                    {"Name": "ErrorCode", "Value": "internal_error"},
                ],
                "Timestamp": at,
                "Value": 1.0,
                "Unit": "Count",
            }
        ],
    )
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
                "Timestamp": at,
                "Value": 4.0,
                "Unit": "Count",
            }
        ],
    )
    api = browser.client.get("/api/metrics?window=3h").json()
    series = {s["key"]: s["summary"] for s in api["series"]}
    assert series["errors_internal_error"] >= 1 and series["invocations"] >= 4
    expected = 100.0 * series["errors_internal_error"] / series["invocations"]
    assert api["server_error_rate"] == expected and api["error_rate"] is not None
    assert f"{expected:.2f} % 5xx answers" in browser.page("/metrics?window=3h").text
    overview = browser.page("/").text
    figure = overview[overview.index('id="server-error-rate"') :]
    assert "5xx answer rate" in figure and "%" in figure[: figure.index("</div>")]
    assert "Lambda error rate" in overview


def test_the_login_page_says_where_the_token_comes_from(anonymous) -> None:
    html = anonymous.get("/login").text
    assert "make up" in html and "resizer up" in html and "resizer console" in html
    assert ".resizer/console/login.json" in html and "--new-token" in html


def test_the_live_tail_says_when_cloudwatch_samples_it(browser: Browser, monkeypatch) -> None:
    def follow(clients, group, *, start, on_sampled=lambda s: None, **kwargs):
        yield logs_op.LogEvent(start, "before", "s1", "e1")
        on_sampled(True)
        yield logs_op.LogEvent(start, "during", "s1", "e2")
        on_sampled(False)

    monkeypatch.setattr(logs_op, "follow", follow)
    with browser.client.stream("GET", "/logs/stream?since=10m") as stream:
        events = read_events(stream, until="end")
    assert [(name, json.loads(data).get("sampled")) for name, data in events if name == "sampled"] == [
        ("sampled", True),
        ("sampled", False),
    ]
    assert "data-log-sampled" in browser.page("/logs").text
