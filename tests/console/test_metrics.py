"""Metrics: server-side SVG charts, and the same numbers as `resizer metrics` (operations.metrics)."""

from datetime import UTC, datetime, timedelta

import boto3

from operations import metrics as metrics_op
from operations.aws import Clients
from tests.console.conftest import FUNCTION, Browser


def test_charts_and_the_clis_numbers(browser: Browser) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
                "Timestamp": now - timedelta(minutes=minutes),
                "Value": value,
                "Unit": "Count",
            }
            for minutes, value in ((50, 3.0), (30, 5.0), (10, 7.0))
        ],
    )
    page = browser.page("/metrics?window=1h").text
    assert "<rect" in page and "Invocations" in page and "<title" in page
    api = browser.client.get("/api/metrics?window=1h").json()
    start = datetime.fromisoformat(api["start"])
    end = datetime.fromisoformat(api["end"])
    cli = metrics_op.function_metrics(
        Clients(boto3.Session(region_name="us-east-1")),
        FUNCTION,
        start=start,
        end=end,
        period=api["period"],
        cleanup="resizer-cleanup",
    )
    console = {s["key"]: s["summary"] for s in api["series"]}
    assert console == {s.key: s.summary for s in cli.series}
    assert console["invocations"] == 15.0
    assert api["period"] == metrics_op.default_period(start, end)
