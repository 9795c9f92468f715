"""The statistics engine behind GetMetricData and GetMetricStatistics: percentiles and exact metric identity.

After ``metrics.install()``, moto's GetMetricData and GetMetricStatistics answer percentile
statistics (``p50``, ``p99``, ``p99.9``; ``ExtendedStatistics``), which moto 5.2.5 fails with an
HTTP 500, and match a query's dimensions exactly, as CloudWatch does.

Percentiles are nearest-rank on the raw values of each period: the smallest published value with
at least p% of the period's values at or below it. CloudWatch answers a percentile with a value
that was published (p99 of a handful of calls is the slowest call, never an interpolation
between calls), and nearest rank always gives one, and never decreases as p grows.
"""

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.metrics import now

STANDARD_STATS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"[pP](\d{1,3}(?:\.\d+)?)")
ORIGINAL_GET_METRIC_DATA: list[Callable] = []  # moto's, for the Metrics Insights queries (set by install)


def percentile_of(stat: str) -> float | None:
    """p for ``pNN``/``pNN.NN`` (0-100), None for any other statistic."""
    found = _PERCENTILE.fullmatch(stat)
    if not found or float(found.group(1)) > 100:
        return None
    return float(found.group(1))


def check_statistic(stat: str, parameter: str) -> None:
    from moto.cloudwatch.exceptions import InvalidParameterValue

    if stat not in STANDARD_STATS and percentile_of(stat) is None:
        raise InvalidParameterValue(
            f"The value {stat} for parameter {parameter} is not supported by the local cloud: "
            f"use {', '.join(STANDARD_STATS)} or a percentile such as p99 or p99.9."
        )


def nearest_rank(values: list[float], p: float) -> float:
    """The p-th percentile (0 <= p <= 100) of values by nearest rank: an observed value."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def statistic(stat: str, data: list[Any]) -> float | None:
    """stat of moto's datums (MetricDatum values, MetricAggregatedDatum statistic sets).

    A percentile needs raw values: a statistic set counts only when its values are all the same
    (SampleCount 1, or Minimum == Maximum), as in CloudWatch; otherwise there is no percentile.
    """
    singles = [d.value for d in data if not hasattr(d, "sample_count")]
    sets = [d for d in data if hasattr(d, "sample_count")]
    count = len(singles) + sum(s.sample_count for s in sets)
    if not count:
        return None
    total = sum(singles) + sum(s.sum for s in sets)
    if stat == "SampleCount":
        return float(count)
    if stat == "Sum":
        return float(total)
    if stat == "Average":
        return total / count
    if stat == "Minimum":
        return float(min([*singles, *(s.min for s in sets)]))
    if stat == "Maximum":
        return float(max([*singles, *(s.max for s in sets)]))
    p = percentile_of(stat)
    if p is None:
        return None
    values = list(singles)
    for s in sets:
        if s.min != s.max and s.sample_count != 1:
            return None
        values += [s.min] * max(1, int(s.sample_count))
    return nearest_rank(values, p)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aligned(start: datetime, period: int) -> datetime:
    """CloudWatch rounds StartTime down to the whole minute (to the second below 60 s), to 5
    minutes when it is over 15 days ago and to the hour over 63 days ago."""
    start = _naive(start).replace(microsecond=0)
    step = _retention_step(start)
    if step > 60:
        return start.replace(second=0) - timedelta(minutes=start.minute % (step // 60))
    return start.replace(second=0) if period >= 60 else start


def _retention_step(start: datetime) -> int:
    """What a period must be a multiple of for data from start on: 60 s, 300 s past 15 days, 3600 s
    past 63 days (older data is kept only at that resolution; other periods get no data points)."""
    age = _naive(now()) - _naive(start)
    return 3600 if age > timedelta(days=63) else 300 if age > timedelta(days=15) else 60


Index = dict[tuple[str, str, frozenset], list[Any]]


def _index(backend: Any) -> Index:
    """The backend's datums by metric identity: namespace, name and the whole dimension set."""
    index: Index = {}
    for md in backend.get_all_metrics():
        key = (md.namespace, md.name, frozenset((d.name, d.value) for d in md.dimensions))
        index.setdefault(key, []).append(md)
    return index


def _select(index: Index, namespace: str, name: str, dimensions: list[dict] | None, unit: str | None) -> list:
    """The datums of exactly this metric, as CloudWatch matches them (every dimension, no more)."""
    wanted = frozenset((d["Name"], d.get("Value")) for d in dimensions or [])
    return [md for md in index.get((namespace, name, wanted), []) if not unit or md.unit == unit]


def _periods(data: list, start: datetime, end: datetime, period: int) -> list[tuple[datetime, list]]:
    """Data by period, [start + k * period, start + (k + 1) * period), only the periods with data.

    A period belongs to the answer when it starts before end, and then counts all of its data (as
    CloudWatch does), including what was published after end within that period."""
    buckets: dict[int, list] = {}
    step = timedelta(seconds=period)
    for md in data:
        at = _naive(md.timestamp)
        if at >= start and start + ((at - start) // step) * step < end:
            buckets.setdefault((at - start) // step, []).append(md)
    return [(start + index * step, buckets[index]) for index in sorted(buckets)]


def get_metric_data(
    self: Any, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime, scan_by: str = ""
) -> list[dict[str, Any]]:
    """CloudWatchBackend.get_metric_data with percentiles and exact metric identity.

    moto's own version: any stat but the five standard ones gives None values (HTTP 500 when
    serialized); a query with dimensions ignores the namespace and compares dimension lists sorted
    with a broken ``Dimension.__lt__``, and one without dimensions takes every dimension set.
    Metric math (moto only resolves references to other ids) and Metrics Insights queries are
    left to moto.
    """
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.metric_data_expression_parser import parse_expression

    end = _naive(end_time).replace(microsecond=0)
    if _naive(start_time).replace(microsecond=0) > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if _naive(start_time).replace(microsecond=0) == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    results: dict[str, dict[str, Any]] = {}
    index = _index(self)  # once for all the queries
    for number, query in enumerate(queries, 1):
        if "MetricStat" not in query:
            continue
        metric_stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        stat, period = metric_stat["Stat"], int(metric_stat["Period"])
        check_statistic(stat, f"MetricDataQueries.member.{number}.MetricStat.Stat")
        data = _select(
            index,
            metric["Namespace"],
            metric["MetricName"],
            metric.get("Dimensions"),
            metric_stat.get("Unit"),
        )
        points = [
            (at, value)
            for at, chunk in _periods(data, _aligned(start_time, period), end, period)
            if (value := statistic(stat, chunk)) is not None and period % _retention_step(start_time) == 0
        ]
        if scan_by == "TimestampDescending":
            points.reverse()
        results[query["Id"]] = _result(query, query.get("Label") or f"{metric['MetricName']} {stat}", points)
    stat_results = list(results.values())
    insights = [q for q in queries if str(q.get("Expression", "")).startswith("SELECT")]
    for query in queries:
        if "Expression" in query and query not in insights:
            values, timestamps = parse_expression(query["Expression"], stat_results)
            results[query["Id"]] = _result(
                query, query.get("Label") or query["Id"], list(zip(timestamps, values, strict=True))
            )
    if insights:
        for result in ORIGINAL_GET_METRIC_DATA[0](
            self, queries=insights, start_time=start_time, end_time=end_time, scan_by=scan_by
        ):
            results[result["id"]] = result
    return [
        results[q["Id"]] for q in queries if q["Id"] in results and q.get("ReturnData", True) is not False
    ]


def _result(query: dict, label: str, points: list[tuple[datetime, float]]) -> dict[str, Any]:
    return {
        "id": query["Id"],
        "label": label,
        "timestamps": [at for at, _ in points],
        "values": [value for _, value in points],
        "status_code": "Complete",
    }


def get_metric_statistics(
    self: Any,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Any]:
    """CloudWatchBackend.get_metric_statistics with ExtendedStatistics (percentiles) and exact
    dimensions; ``stats`` holds both Statistics and ExtendedStatistics (see the response patch)."""
    from moto.cloudwatch.exceptions import InvalidParameterValue

    start, end = _aligned(start_time, period), _naive(end_time).replace(microsecond=0)
    if _naive(start_time).replace(microsecond=0) >= end:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    for stat in stats:
        check_statistic(stat, "ExtendedStatistics" if stat not in STANDARD_STATS else "Statistics")
    data = _select(_index(self), namespace, metric_name, dimensions, unit)
    return [_datapoint(stats, at, chunk) for at, chunk in _periods(data, start, end, period)]


def _datapoint(stats: list[str], at: datetime, chunk: list) -> Any:
    from moto.cloudwatch.models import Statistics

    point = Statistics(stats, at, chunk[-1].unit)
    point.metric_data = chunk
    extended = {s: v for s in stats if s not in STANDARD_STATS and (v := statistic(s, chunk)) is not None}
    point.extended_statistics = extended or None  # type: ignore[attr-defined]  # serialized as ExtendedStatistics
    return point


def get_metric_statistics_response(self: Any) -> Any:
    """CloudWatchResponse.get_metric_statistics passing ExtendedStatistics on (moto drops them)."""
    from moto.cloudwatch.exceptions import InvalidParameterCombination
    from moto.core.responses import ActionResult

    statistics = self._get_param("Statistics", []) or []
    extended = self._get_param("ExtendedStatistics", []) or []
    if not statistics and not extended:
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    metric_name = self._get_param("MetricName")
    datapoints = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        metric_name,
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        [*statistics, *extended],
        unit=self._get_param("Unit"),
        dimensions=self._get_param("Dimensions", []),
    )
    return ActionResult({"Label": metric_name, "Datapoints": datapoints})
