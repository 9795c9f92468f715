"""operations.metrics: the default period, the sparkline, then function_metrics against moto's
CloudWatch with the local cloud's metrics fidelity installed (percentiles, exact dimensions), with
data points put through boto3 as Lambda and the function's EMF records would publish them."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cli.commands.metrics import BARS, sparkline
from localcloud import metrics as local_metrics
from operations import metrics
from operations.aws import Clients
from operations.errors import ConfigError

FUNCTION = "resizer-resize"

# --- default_period -------------------------------------------------------------------------------

T = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # recent: 1-minute data kept


@pytest.mark.parametrize(
    ("span", "period"),
    [
        (timedelta(seconds=30), 60),
        (timedelta(minutes=10), 60),
        (timedelta(minutes=30), 60),
        (timedelta(minutes=59), 60),
        (timedelta(hours=1), 120),
        (timedelta(hours=3), 360),
        (timedelta(days=1), 2880),
        (timedelta(weeks=1), 20160),
    ],
)
def test_default_period(span: timedelta, period: int) -> None:
    found = metrics.default_period(T - span, T)
    assert found == period
    assert found % 60 == 0 and found >= 60
    assert span.total_seconds() / found <= 30 or found == 60, "about 30 points, never more than 30"


def test_default_period_ends_now_by_default() -> None:
    assert metrics.default_period(datetime.now(UTC) - timedelta(days=1)) == 2880


def test_default_period_of_an_empty_or_inverted_window_is_a_minute() -> None:
    assert metrics.default_period(T, T) == 60
    assert metrics.default_period(T, T - timedelta(hours=1)) == 60


# --- sparkline (cli/commands/metrics.py) ----------------------------------------------------------


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5.0]) == BARS[0]
    assert sparkline([3.0, 3.0, 3.0]) == BARS[0] * 3
    assert sparkline([0.0, 7.0]) == BARS[0] + BARS[-1]
    assert sparkline([float(v) for v in range(8)]) == BARS
    assert sparkline([10.0, 0.0, 5.0]) == BARS[-1] + BARS[0] + BARS[3]
    assert sparkline([-1.0, 1.0]) == BARS[0] + BARS[-1]
    assert len(sparkline([float(v % 13) for v in range(100)])) == 100


# --- function_metrics against moto ---------------------------------------------------------------


@pytest.fixture
def cloudwatch(clients: Clients) -> Iterator[object]:
    local_metrics.install()
    try:
        yield clients.client("cloudwatch")
    finally:
        local_metrics.uninstall()


def put(
    cloudwatch: object,
    namespace: str,
    name: str,
    values: list[float],
    at: datetime,
    unit: str = "Count",
    function: str = FUNCTION,
    **dimensions: str,
) -> None:
    dims = [{"Name": "FunctionName", "Value": function}] + [
        {"Name": k, "Value": v} for k, v in dimensions.items()
    ]
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Values": values, "Unit": unit, "Timestamp": at}
        ],
    )


def invocation(
    cloudwatch: object, at: datetime, duration: float, *, error: bool = False, function: str = FUNCTION
):
    """What AWS/Lambda publishes for one invocation."""
    put(cloudwatch, "AWS/Lambda", "Invocations", [1.0], at, function=function)
    put(cloudwatch, "AWS/Lambda", "Errors", [1.0 if error else 0.0], at, function=function)
    put(cloudwatch, "AWS/Lambda", "Duration", [duration], at, "Milliseconds", function=function)
    put(cloudwatch, "AWS/Lambda", "ConcurrentExecutions", [1.0], at, function=function)


@pytest.fixture
def window() -> tuple[datetime, datetime]:
    """A one-hour window ending on a whole minute a little in the past."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    return end - timedelta(hours=1), end


def test_function_metrics_series_and_summaries(clients: Clients, cloudwatch, window) -> None:
    start, end = window
    durations = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    for index, duration in enumerate(durations):  # 10 invocations, 2 per 5-minute period
        invocation(
            cloudwatch,
            start + timedelta(minutes=1 + 5 * (index // 2), seconds=index),
            duration,
            error=index == 3,
        )
    put(
        cloudwatch,
        "Resizer",
        "ResizeMs",
        [4.0, 8.0, 12.0, 16.0],
        start + timedelta(minutes=3),
        "Milliseconds",
    )
    put(cloudwatch, "Resizer", "OutputBytes", [1000.0, 2500.0], start + timedelta(minutes=3), "Bytes")
    invocation(cloudwatch, start + timedelta(minutes=1), 999.0, function="another-function")
    invocation(cloudwatch, start - timedelta(minutes=5), 999.0)  # before the window
    invocation(cloudwatch, end + timedelta(seconds=30), 999.0)  # after it

    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=300)

    assert (report.function, report.start, report.end, report.period) == (FUNCTION, start, end, 300)
    keys = [s.key for s in report.series]
    assert keys == [w.key for w in metrics.wanted(FUNCTION)]
    invocations = report.get("invocations")
    assert invocations.summary == 10
    assert invocations.values == [2.0] * 5
    assert invocations.timestamps == [start + timedelta(minutes=5 * i) for i in range(5)]
    assert all(t.tzinfo is not None for t in invocations.timestamps)
    assert report.get("errors").summary == 1
    assert report.get("throttles").summary == 0.0 and report.get("throttles").values == []
    assert report.get("duration_avg").summary == pytest.approx(55.0)
    assert report.get("duration_max").summary == 100.0
    assert report.get("duration_p50").summary == 50.0
    assert report.get("duration_p99").summary == 100.0
    assert report.get("duration_p99").values == [20.0, 40.0, 60.0, 80.0, 100.0]
    assert report.get("concurrency").summary == 1.0
    assert report.get("resize_p50").summary == 8.0 and report.get("resize_p99").summary == 16.0
    assert report.get("output_bytes").summary == 3500.0
    assert report.error_rate == pytest.approx(10.0)
    assert report.get("nothing") is None


def test_function_metrics_with_no_data(clients: Clients, cloudwatch, window) -> None:
    start, end = window
    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=60)
    for series in report.series:
        assert series.values == [] and series.timestamps == []
        assert series.summary == (0.0 if series.stat == "Sum" else None), series.key
    assert report.error_rate is None


def test_function_metrics_discovers_error_codes(clients: Clients, cloudwatch, window) -> None:
    start, end = window
    at = start + timedelta(minutes=10)
    invocation(cloudwatch, at, 5.0, error=False)
    for code, count in (("not_found", 2), ("too_large", 1)):
        for _ in range(count):
            put(cloudwatch, "Resizer", "Errors", [1.0], at, ErrorCode=code)
    put(cloudwatch, "Resizer", "Errors", [1.0], at, function="another-function", ErrorCode="forbidden")

    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=300)

    by_key = {s.key: s for s in report.series}
    assert [k for k in by_key if k.startswith("errors_")] == ["errors_not_found", "errors_too_large"]
    assert by_key["errors_not_found"].summary == 2 and by_key["errors_not_found"].label == "Errors not_found"
    assert by_key["errors_too_large"].summary == 1
    assert by_key["errors"].summary == 0, "AWS/Lambda Errors are the function's crashes, not its 4xx"


def test_function_metrics_summary_is_exact_when_the_start_is_not_on_a_whole_minute(
    clients: Clients, cloudwatch
) -> None:
    # `--since 10m` starts at hh:mm:ss; CloudWatch rounds StartTime down to the minute, so a
    # whole-window period of 600 s ends before `end` and the newest calls land in a second point.
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(minutes=10)
    if start.second == 0:
        start, end = start - timedelta(seconds=30), end - timedelta(seconds=30)
    for offset, duration in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        invocation(cloudwatch, start + timedelta(minutes=1, seconds=offset), duration)
    invocation(cloudwatch, end - timedelta(seconds=1), 100.0)  # a request just now

    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=60)

    assert report.get("invocations").summary == 6
    assert report.get("duration_max").summary == 100.0
    assert report.get("duration_p50").summary == 3.0, "the p50 of all six calls, not the max of two p50s"
    assert report.get("duration_avg").summary == pytest.approx(115.0 / 6), "not an average of averages"


def test_function_metrics_pages(
    clients: Clients, cloudwatch, monkeypatch: pytest.MonkeyPatch, window
) -> None:
    start, end = window
    invocation(cloudwatch, start + timedelta(minutes=1), 5.0)
    invocation(cloudwatch, start + timedelta(minutes=7), 7.0)
    real = cloudwatch.get_metric_data
    calls: list[dict] = []

    def paged(**kwargs):
        # the first page has the first point of each query, the second the rest, like a 2-point page
        calls.append(kwargs)
        reply = real(**{k: v for k, v in kwargs.items() if k != "NextToken"})
        first = "NextToken" not in kwargs
        for result in reply["MetricDataResults"]:
            result["Timestamps"] = result["Timestamps"][:1] if first else result["Timestamps"][1:]
            result["Values"] = result["Values"][:1] if first else result["Values"][1:]
        if first:
            reply["NextToken"] = "page-2"
        return reply

    monkeypatch.setattr(cloudwatch, "get_metric_data", paged)
    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=300)

    assert len(calls) == 2 and calls[1]["NextToken"] == "page-2"
    assert calls[0]["ScanBy"] == "TimestampAscending"
    assert report.get("invocations").values == [1.0, 1.0]
    assert report.get("invocations").summary == 2
    assert report.get("duration_max").summary == 7.0


@pytest.mark.parametrize("period", [0, 30, 59, 90, 61])
def test_function_metrics_refuses_a_period_that_is_not_whole_minutes(
    clients: Clients, window, period: int
) -> None:
    start, end = window
    with pytest.raises(ConfigError, match="whole number of minutes"):
        metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=period)


def test_function_metrics_refuses_an_empty_window(clients: Clients, window) -> None:
    start, _ = window
    with pytest.raises(ConfigError, match="the window is empty"):
        metrics.function_metrics(clients, FUNCTION, start=start, end=start, period=60)
    with pytest.raises(ConfigError, match="the window is empty"):
        metrics.function_metrics(clients, FUNCTION, start=start, end=start - timedelta(minutes=1), period=60)


def test_error_rate() -> None:
    def report(invocations: float | None, errors: float | None) -> metrics.MetricsReport:
        series = [
            metrics.Series("invocations", "Invocations", "Sum", "Count", summary=invocations),
            metrics.Series("errors", "Errors", "Sum", "Count", summary=errors),
        ]
        return metrics.MetricsReport(FUNCTION, T, T, 60, series)

    assert report(8.0, 2.0).error_rate == 25.0
    assert report(8.0, None).error_rate == 0.0
    assert report(8.0, 0.0).error_rate == 0.0
    assert report(0.0, 0.0).error_rate is None
    assert report(None, None).error_rate is None
    assert metrics.MetricsReport(FUNCTION, T, T, 60, []).error_rate is None


def test_function_metrics_counts_a_call_made_just_before_the_end(clients: Clients, cloudwatch) -> None:
    # `resizer metrics` right after a request: the call is in the window [start, end), end = now.
    # (The local cloud's GetMetricData truncates EndTime to the second and drops what was published
    # in that last partial second; CloudWatch returns the minute's datapoint, which has it.)
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    end = second + timedelta(milliseconds=600)
    start = end - timedelta(minutes=10)
    invocation(cloudwatch, second - timedelta(seconds=30), 10.0)
    invocation(cloudwatch, second + timedelta(milliseconds=200), 20.0)

    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=60)

    assert report.get("invocations").summary == 2
    assert report.get("duration_max").summary == 20.0


# --- CloudWatch's retention: old windows need 5-minute or hourly periods ------------------------


@pytest.mark.parametrize(
    ("age", "step"), [(timedelta(days=14), 60), (timedelta(days=20), 300), (timedelta(days=70), 3600)]
)
def test_default_period_of_an_old_window_follows_the_retention(age: timedelta, step: int) -> None:
    now = datetime.now(UTC)
    assert metrics.resolution(now - age) == step
    assert metrics.default_period(now - age, now) % step == 0
    assert metrics.default_period(now - age, now - age + timedelta(minutes=10)) == step


def test_function_metrics_over_20_days_counts_the_invocations(clients: Clients, cloudwatch) -> None:
    # `metrics --since 20d`: a whole-window period of whole minutes but not of 5 minutes got no data.
    now = datetime.now(UTC)
    start = now - timedelta(days=20, seconds=17)
    for minutes in (3, 30, 300):
        invocation(cloudwatch, now - timedelta(minutes=minutes), 10.0)

    report = metrics.function_metrics(
        clients, FUNCTION, start=start, end=now, period=metrics.default_period(start, now)
    )

    assert report.get("invocations").summary == 3
    assert sum(report.get("invocations").values) == 3
    assert report.start.minute % 5 == 0 and report.start.second == 0, "rounded as CloudWatch rounds it"


def test_function_metrics_refuses_a_period_old_data_does_not_have(clients: Clients, cloudwatch) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ConfigError, match="multiple of 300") as refused:
        metrics.function_metrics(clients, FUNCTION, start=now - timedelta(days=20), end=now, period=60)
    assert "--period 300" in refused.value.hint
    with pytest.raises(ConfigError, match="multiple of 3600"):
        metrics.function_metrics(clients, FUNCTION, start=now - timedelta(days=70), end=now, period=600)


def test_the_local_cloud_answers_no_data_for_a_period_old_data_does_not_have(
    clients: Clients, cloudwatch
) -> None:
    now = datetime.now(UTC)
    invocation(cloudwatch, now - timedelta(minutes=3), 10.0)
    query = {
        "Id": "i",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
            },
            "Stat": "Sum",
        },
    }

    def values(age: timedelta, period: int) -> list[float]:
        query["MetricStat"]["Period"] = period
        reply = cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=now - age, EndTime=now)
        return reply["MetricDataResults"][0]["Values"]

    assert values(timedelta(days=20), 60) == [] and values(timedelta(days=20), 300) == [1.0]
    assert values(timedelta(days=70), 300) == [] and values(timedelta(days=70), 3600) == [1.0]
    assert values(timedelta(days=1), 60) == [1.0]


def test_server_error_rate_counts_the_functions_5xx_answers(clients: Clients, cloudwatch, window) -> None:
    start, end = window
    at = start + timedelta(minutes=10)
    for _ in range(8):
        invocation(cloudwatch, at, 5.0)  # Lambda saw eight successes ...
    put(cloudwatch, "Resizer", "Errors", [1.0, 1.0], at, ErrorCode="internal_error")  # ... two were 500s
    put(cloudwatch, "Resizer", "Errors", [1.0], at, ErrorCode="not_found")  # a 404 is not a server error

    report = metrics.function_metrics(clients, FUNCTION, start=start, end=end, period=300)

    assert report.error_rate == 0.0
    assert report.server_error_rate == 25.0


def test_server_error_rate_without_invocations_is_none() -> None:
    assert metrics.MetricsReport(FUNCTION, T, T, 60, []).server_error_rate is None
