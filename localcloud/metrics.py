"""CloudWatch metrics for the local cloud, as AWS makes them: Lambda's own and the functions' EMF.

- ``publish_invocation(spec, invocation)``, the Lambda runtime's ``on_invoked`` hook, writes what
  AWS/Lambda publishes for each invocation straight into moto's CloudWatch backend (no HTTP):
  ``Invocations``, ``Errors``, ``Duration`` and ``ConcurrentExecutions``, or ``Throttles`` (and no
  ``Invocations``) for a throttled call; by ``FunctionName`` and for the whole account (no
  dimensions), as Lambda does.
- ``extract_emf(line)`` reads a log line as CloudWatch reads an Embedded Metric Format record;
  after ``install()`` every line a function logs through ``moto_lambda.write_log`` is also
  published this way, as Lambda's log ingestion does.
- ``install()`` also makes moto's GetMetricData and GetMetricStatistics answer percentile
  statistics (``p50``, ``p99``, ``p99.9``; ``ExtendedStatistics``), which moto 5.2.5 fails with an
  HTTP 500, and match a query's dimensions exactly, as CloudWatch does.

Percentiles are nearest-rank on the raw values of each period: the smallest published value with
at least p% of the period's values at or below it. CloudWatch answers a percentile with a value
that was published (p99 of a handful of calls is the slowest call, never an interpolation
between calls), and nearest rank always gives one, and never decreases as p grows.

``uninstall()`` puts moto (and ``moto_lambda.write_log``) back.
"""

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud import patching

_SIZES = ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
_SIZES += ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
UNITS = frozenset(
    {"Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None", *_SIZES}
    | {f"{unit}/Second" for unit in (*_SIZES, "Count")}
)
STANDARD_STATS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"[pP](\d{1,3}(?:\.\d+)?)")
EMF_MAX_DIMENSIONS = 30
EMF_MAX_VALUES = 100


@dataclass(frozen=True)
class Datum:
    """One metric's values at one time, in one namespace and dimension set."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]
    unit: str
    timestamp: datetime  # naive UTC, as moto keeps them

    def metric_data(self) -> dict[str, Any]:
        """The MetricData member of a PutMetricData call, as moto's backend takes it."""
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
            "Values": list(self.values),
            "Unit": self.unit,
            "Timestamp": self.timestamp,
        }


def utc(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).replace(tzinfo=None)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Embedded Metric Format -----------------------------------------------------------------------


def extract_emf(line: str) -> list[Datum]:
    """The metrics CloudWatch extracts from one log line ([] when it is not a valid EMF record).

    Every directive of ``_aws.CloudWatchMetrics`` gives each of its metrics once per dimension set
    (no dimension set: no dimensions), with the root member of the metric's name as the value (a
    number, or an array of up to 100 numbers), its ``Unit`` (``None`` when absent or unknown) and
    ``_aws.Timestamp`` (epoch milliseconds). A record that breaks the specification (no timestamp,
    a directive without a namespace, a dimension that is not a string member of the root...) gives
    nothing, as CloudWatch rejects it; a metric whose value is missing or not numeric is skipped.
    """
    text = line.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return []
    try:
        root = json.loads(text)
    except ValueError:
        return []
    meta = root.get("_aws") if isinstance(root, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("CloudWatchMetrics"), list):
        return []
    stamp = meta.get("Timestamp")
    if not _is_number(stamp):
        return []
    timestamp = utc(stamp)
    data: list[Datum] = []
    for directive in meta["CloudWatchMetrics"]:
        parsed = _directive(root, directive, timestamp)
        if parsed is None:
            return []
        data += parsed
    return data


def _directive(root: dict, directive: Any, timestamp: datetime) -> list[Datum] | None:
    if not isinstance(directive, dict):
        return None
    namespace, metrics = directive.get("Namespace"), directive.get("Metrics")
    sets = directive.get("Dimensions", [])
    if not isinstance(namespace, str) or not namespace or not isinstance(metrics, list):
        return None
    if not isinstance(sets, list) or not all(isinstance(keys, list) for keys in sets):
        return None
    dimension_sets = []
    for keys in sets or [[]]:
        if len(keys) > EMF_MAX_DIMENSIONS:
            return None
        if not all(isinstance(key, str) and isinstance(root.get(key), str) for key in keys):
            return None
        dimension_sets.append(tuple((key, root[key]) for key in keys))
    data = []
    for metric in metrics:
        if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
            return None
        values = _values(root.get(metric["Name"]))
        if not values:
            continue
        unit = metric.get("Unit")
        unit = unit if unit in UNITS else "None"
        for dimensions in dimension_sets:
            data.append(Datum(namespace, metric["Name"], dimensions, values, unit, timestamp))
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _values(value: Any) -> tuple[float, ...]:
    if _is_number(value):
        return (float(value),)
    if isinstance(value, list) and 0 < len(value) <= EMF_MAX_VALUES and all(map(_is_number, value)):
        return tuple(float(v) for v in value)
    return ()


def put(account_id: str, region: str, data: list[Datum]) -> None:
    """Store data in moto's CloudWatch backend of that account and region (no HTTP)."""
    if not data:
        return
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[account_id][region]
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for datum in data:
        by_namespace.setdefault(datum.namespace, []).append(datum.metric_data())
    for namespace, metric_data in by_namespace.items():
        backend.put_metric_data(namespace, metric_data)


def emf_writer(write: Callable[[str, str, list[tuple[int, str]]], None], account_id: str, region: str):
    """A LogWriter that writes through ``write`` and publishes the EMF records among the lines."""

    def write_and_extract(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        write(group, stream, events)
        try:
            put(account_id, region, [datum for _, line in events for datum in extract_emf(line)])
        except Exception:  # the function's output must never fail its invocation
            logging.getLogger(__name__).exception("localcloud: EMF metrics of %s not published", group)

    return write_and_extract


# AWS/Lambda ------------------------------------------------------------------------------------


def publish_invocation(
    spec: Any,
    invocation: Any,
    *,
    runtime: Any = None,
    concurrency: int | None = None,
    at: datetime | None = None,
) -> None:
    """Publish AWS/Lambda's metrics for one invocation, or for a throttle when invocation is None.

    Account and region come from ``spec.arn``. ``ConcurrentExecutions`` is ``concurrency`` when
    given, else read from ``runtime`` (the busy workers of the function, plus the one that just
    finished), else 1 per invocation.
    """
    _, _, _, region, account_id, *_ = spec.arn.split(":")
    at = at or now()
    if concurrency is None:
        concurrency = busy_workers(runtime, spec.arn) if runtime is not None else 0
        if invocation is not None:
            concurrency += 1  # the runtime released this invocation's worker before the hook
    if invocation is None:
        values = [("Throttles", 1.0, "Count"), ("ConcurrentExecutions", float(concurrency), "Count")]
    else:
        values = [
            ("Invocations", 1.0, "Count"),
            ("Errors", 1.0 if invocation.function_error else 0.0, "Count"),
            ("Duration", float(invocation.duration_ms), "Milliseconds"),
            ("ConcurrentExecutions", float(concurrency), "Count"),
        ]
    data = [
        Datum("AWS/Lambda", name, dimensions, (value,), unit, at)
        for name, value, unit in values
        for dimensions in ((("FunctionName", spec.name),), ())
    ]
    put(account_id, region, data)


def busy_workers(runtime: Any, arn: str) -> int:
    """The function's busy workers, read without the runtime's lock.

    ``Runtime.stats`` takes the lock, and the runtime calls ``on_invoked`` for a throttle with that
    lock held; an int read is atomic, which is all this needs.
    """
    pool = getattr(runtime, "_pools", {}).get(arn)
    return int(pool.busy) if pool is not None else 0


# Statistics ------------------------------------------------------------------------------------


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
        for result in _ORIGINAL_GET_METRIC_DATA[0](
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


# moto ------------------------------------------------------------------------------------------

_patches = patching.Patches("metrics")
_ORIGINAL_GET_METRIC_DATA: list[Callable] = []


def install() -> None:
    """Patch moto's CloudWatch and the local Lambda's log writer in this process (idempotent).

    Replaced: ``CloudWatchBackend.get_metric_data`` and ``get_metric_statistics`` (percentiles,
    exact dimensions), ``CloudWatchResponse.get_metric_statistics`` (ExtendedStatistics reach the
    backend) and ``localcloud.moto_lambda.write_log`` (its writers also publish EMF records; both
    the Invoke API and the front door get their writer from it at each invocation).
    """
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    from localcloud import moto_lambda

    with _patches.installing():
        if _patches.active:
            return
        _ORIGINAL_GET_METRIC_DATA[:] = [CloudWatchBackend.get_metric_data]
        original_write_log = moto_lambda.write_log

        def write_log(fn: Any) -> Any:
            return emf_writer(original_write_log(fn), fn.account_id, fn.region)

        _patches.set(
            CloudWatchBackend,
            "get_metric_data",
            get_metric_data,
            expect="self, queries, start_time, end_time, scan_by",
        )
        _patches.set(
            CloudWatchBackend,
            "get_metric_statistics",
            get_metric_statistics,
            expect="self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit",
        )
        _patches.set(
            CloudWatchResponse, "get_metric_statistics", get_metric_statistics_response, expect="self"
        )
        _patches.set(moto_lambda, "write_log", write_log, expect="fn")


def uninstall() -> None:
    """Give moto back its own metrics, and moto_lambda its own write_log."""
    with _patches.lock:
        _patches.undo()
        _ORIGINAL_GET_METRIC_DATA.clear()
