"""Metrics: the function's Lambda metrics and its own ``Resizer`` metrics, in one GetMetricData call,
with the cleanup function's Lambda metrics (``cleanup_*`` series) when the stack has one.

Each metric comes twice in the same batch: per ``period`` (a series, for a chart or a sparkline)
and over the whole window (its summary: exact sums, maxima and percentiles, not averages of
averages). Error codes are discovered with ListMetrics, so each gets its own series.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from operations.aws import Clients, translated
from operations.errors import ConfigError
from operations.functions import Function
from resizer_function.errors import SERVER_ERROR_CODES

# How CloudWatch keeps data: a start older than 15 days needs periods (and starts) on 5-minute
# boundaries, older than 63 days on hours, or GetMetricData answers no data points at all.
RESOLUTIONS = ((timedelta(days=63), 3600), (timedelta(days=15), 300), (timedelta(0), 60))
CLEANUP = "cleanup_"  # the key prefix of the cleanup function's series
CLEANUP_KEYS = ("invocations", "errors", "throttles", "duration_max")  # of wanted()'s Lambda series


@dataclass(frozen=True)
class Wanted:
    key: str
    label: str
    namespace: str
    metric: str
    stat: str
    unit: str
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclass
class Series:
    key: str
    label: str
    stat: str
    unit: str
    timestamps: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    summary: float | None = None


@dataclass
class MetricsReport:
    function: str
    start: datetime
    end: datetime
    period: int
    series: list[Series]
    cleanup_function: str = ""  # '' when the stack has no cleanup function (an older template)

    def get(self, key: str) -> Series | None:
        return next((s for s in self.series if s.key == key), None)

    @property
    def error_rate(self) -> float | None:
        """Lambda's Errors (crashes, timeouts) / Invocations over the window, in percent (None: no calls)."""
        return self._lambda_error_rate("")

    @property
    def server_error_rate(self) -> float | None:
        """The function's own 5xx answers (its EMF Errors by a 5xx ErrorCode) / Invocations, in percent.

        Lambda counts a request the function answers with a 500 as a success; this counts it.
        """
        invocations = self.get("invocations")
        if not invocations or not invocations.summary:
            return None
        answered = sum(
            s.summary or 0.0 for s in self.series if s.key.removeprefix("errors_") in SERVER_ERROR_CODES
        )
        return 100.0 * answered / invocations.summary

    @property
    def cleanup_error_rate(self) -> float | None:
        """The cleanup function's Lambda Errors / Invocations, in percent (None: no calls, no cleanup)."""
        return self._lambda_error_rate(CLEANUP)

    def _lambda_error_rate(self, prefix: str) -> float | None:
        invocations, errors = self.get(f"{prefix}invocations"), self.get(f"{prefix}errors")
        if not invocations or not invocations.summary:
            return None
        return 100.0 * ((errors.summary or 0.0) if errors else 0.0) / invocations.summary


def cleanup_wanted(function: str) -> list[Wanted]:
    """The cleanup function's Lambda metrics: it publishes none of its own (no Resizer namespace)."""
    return [
        replace(w, key=f"{CLEANUP}{w.key}", label=f"Cleanup {w.label.lower()}")
        for w in wanted(function)
        if w.key in CLEANUP_KEYS
    ]


def wanted(function: str) -> list[Wanted]:
    by_function = (("FunctionName", function),)
    lam = "AWS/Lambda"
    return [
        Wanted("invocations", "Invocations", lam, "Invocations", "Sum", "Count", by_function),
        Wanted("errors", "Errors", lam, "Errors", "Sum", "Count", by_function),
        Wanted("throttles", "Throttles", lam, "Throttles", "Sum", "Count", by_function),
        Wanted("duration_avg", "Duration avg", lam, "Duration", "Average", "Milliseconds", by_function),
        Wanted("duration_p50", "Duration p50", lam, "Duration", "p50", "Milliseconds", by_function),
        Wanted("duration_p99", "Duration p99", lam, "Duration", "p99", "Milliseconds", by_function),
        Wanted("duration_max", "Duration max", lam, "Duration", "Maximum", "Milliseconds", by_function),
        Wanted(
            "concurrency",
            "Concurrent executions",
            lam,
            "ConcurrentExecutions",
            "Maximum",
            "Count",
            by_function,
        ),
        Wanted("resize_p50", "Resize p50", "Resizer", "ResizeMs", "p50", "Milliseconds", by_function),
        Wanted("resize_p99", "Resize p99", "Resizer", "ResizeMs", "p99", "Milliseconds", by_function),
        Wanted("output_bytes", "Output bytes", "Resizer", "OutputBytes", "Sum", "Bytes", by_function),
    ]


@translated
def function_metrics(
    clients: Clients,
    function: str,
    *,
    start: datetime,
    end: datetime | None = None,
    period: int = 300,
    cleanup: str = "",
) -> MetricsReport:
    """The function's metrics between start and end, per period (seconds, a multiple of 60), and the
    cleanup function's (named by ``cleanup``) in the same call."""
    end = end or datetime.now(UTC)
    if period < 60 or period % 60:
        raise ConfigError("the period must be a whole number of minutes (60, 300, 3600, ...)")
    if end <= start:
        raise ConfigError("the window is empty: --since must be before --until")
    step = resolution(start)
    if period % step:
        raise ConfigError(
            f"data older than {'63' if step == 3600 else '15'} days is kept per {step} s: "
            f"the period must be a multiple of {step}",
            hint=f"pass --period {math.ceil(period / step) * step} or leave it out",
        )
    cloudwatch = clients.client("cloudwatch")
    metrics = (
        wanted(function) + _error_codes(cloudwatch, function) + (cleanup_wanted(cleanup) if cleanup else [])
    )
    # CloudWatch starts periods on whole minutes (5 minutes, hours for older data): align, so one
    # window period, a multiple of the same step, spans the window.
    start = aligned(start, step)
    window = max(step, math.ceil((end - start).total_seconds() / step) * step)
    queries = []
    for index, item in enumerate(metrics):
        stat = {
            "Metric": {
                "Namespace": item.namespace,
                "MetricName": item.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in item.dimensions],
            },
            "Stat": item.stat,
        }
        queries.append({"Id": f"s{index}", "MetricStat": {**stat, "Period": period}, "ReturnData": True})
        queries.append({"Id": f"t{index}", "MetricStat": {**stat, "Period": window}, "ReturnData": True})
    results: dict[str, dict] = {}
    token = None
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
            **({"NextToken": token} if token else {}),
        )
        for result in page["MetricDataResults"]:
            merged = results.setdefault(result["Id"], {"Timestamps": [], "Values": []})
            merged["Timestamps"] += result.get("Timestamps", [])
            merged["Values"] += result.get("Values", [])
        token = page.get("NextToken")
        if not token:
            break
    series = []
    for index, item in enumerate(metrics):
        points = sorted(zip(results[f"s{index}"]["Timestamps"], results[f"s{index}"]["Values"], strict=True))
        totals = results[f"t{index}"]["Values"]
        summary = _combine(item.stat, totals) if totals else (0.0 if item.stat == "Sum" else None)
        series.append(
            Series(
                item.key,
                item.label,
                item.stat,
                item.unit,
                [t for t, _ in points],
                [v for _, v in points],
                summary,
            )
        )
    return MetricsReport(function, start, end, period, series, cleanup)


def of_functions(
    clients: Clients,
    found: Sequence[Function],
    *,
    start: datetime,
    end: datetime | None = None,
    period: int = 300,
) -> MetricsReport:
    """``function_metrics`` of the stack's functions (``operations.functions``): the resize function's
    and, when the stack has one, the cleanup's; what every front shows."""
    names = {f.role: f.name for f in found}
    if "resize" not in names:
        raise ConfigError("no resize function to read the metrics of")
    return function_metrics(
        clients, names["resize"], start=start, end=end, period=period, cleanup=names.get("cleanup", "")
    )


def _combine(stat: str, values: list[float]) -> float:
    """A whole-window query may still return more than one point (period boundaries)."""
    if stat == "Sum":
        return sum(values)
    if stat in ("Maximum",) or stat.startswith("p"):
        return max(values)
    if stat == "Minimum":
        return min(values)
    return sum(values) / len(values)


def _error_codes(cloudwatch, function: str) -> list[Wanted]:
    codes = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(
        Namespace="Resizer", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": function}]
    ):
        for metric in page["Metrics"]:
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            if "ErrorCode" in dims and len(dims) == 2:
                codes.add(dims["ErrorCode"])
    return [
        Wanted(
            f"errors_{code}",
            f"Errors {code}",
            "Resizer",
            "Errors",
            "Sum",
            "Count",
            (("FunctionName", function), ("ErrorCode", code)),
        )
        for code in sorted(codes)
    ]


def default_period(start: datetime, end: datetime | None = None) -> int:
    """About 30 points over the window, in whole minutes (whole 5 minutes or hours for old data)."""
    span = ((end or datetime.now(UTC)) - start) / timedelta(seconds=1)
    step = resolution(start)
    return max(step, int(span / 30) // step * step)


def resolution(start: datetime, now: datetime | None = None) -> int:
    """The seconds a period must be a multiple of, for a window starting at start (CloudWatch's retention)."""
    age = (now or datetime.now(UTC)) - start
    return next(step for older, step in RESOLUTIONS if age > older)


def aligned(start: datetime, step: int) -> datetime:
    """start rounded down to the step, as CloudWatch rounds StartTime (whole minutes, 5 minutes, hours)."""
    start = start.replace(second=0, microsecond=0)
    return start - timedelta(minutes=start.minute % (step // 60))
