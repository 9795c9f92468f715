"""EMF ingestion: the metrics CloudWatch extracts from a function's Embedded Metric Format log lines.

``extract_emf(line)`` reads a log line as CloudWatch reads an Embedded Metric Format record;
after ``metrics.install()`` every line a function logs through ``moto_lambda.write_log`` is also
published this way (``emf_writer``), as Lambda's log ingestion does.
"""

import json
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from localcloud.metrics import Datum, put, utc

_SIZES = ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
_SIZES += ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
UNITS = frozenset(
    {"Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None", *_SIZES}
    | {f"{unit}/Second" for unit in (*_SIZES, "Count")}
)
EMF_MAX_DIMENSIONS = 30
EMF_MAX_VALUES = 100


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


def emf_writer(write: Callable[[str, str, list[tuple[int, str]]], None], account_id: str, region: str):
    """A LogWriter that writes through ``write`` and publishes the EMF records among the lines."""

    def write_and_extract(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        write(group, stream, events)
        try:
            put(account_id, region, [datum for _, line in events for datum in extract_emf(line)])
        except Exception:  # the function's output must never fail its invocation
            logging.getLogger(__name__).exception("localcloud: EMF metrics of %s not published", group)

    return write_and_extract
