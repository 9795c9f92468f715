"""CloudWatch metrics for the local cloud, as AWS makes them: the data points, and install() of the patches.

The work is in three modules: ``lambda_metrics`` (what AWS/Lambda publishes per invocation),
``emf_ingestion`` (the metrics in a function's Embedded Metric Format log lines) and
``metric_statistics`` (percentiles and exact dimensions in GetMetricData and GetMetricStatistics).
This one holds what they share: a ``Datum``, ``put`` (into moto's CloudWatch backend, no HTTP) and
``install()``/``uninstall()``, which patch moto's CloudWatch and ``moto_lambda.write_log``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud import patching


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


_patches = patching.Patches("metrics")


def install() -> None:
    """Patch moto's CloudWatch and the local Lambda's log writer in this process (idempotent).

    Replaced: ``CloudWatchBackend.get_metric_data`` and ``get_metric_statistics`` (percentiles,
    exact dimensions), ``CloudWatchResponse.get_metric_statistics`` (ExtendedStatistics reach the
    backend) and ``localcloud.moto_lambda.write_log`` (its writers also publish EMF records; both
    the Invoke API and the front door get their writer from it at each invocation).
    """
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    from localcloud import emf_ingestion, moto_lambda
    from localcloud import metric_statistics as statistics

    with _patches.installing():
        if _patches.active:
            return
        statistics.ORIGINAL_GET_METRIC_DATA[:] = [CloudWatchBackend.get_metric_data]
        original_write_log = moto_lambda.write_log

        def write_log(fn: Any) -> Any:
            return emf_ingestion.emf_writer(original_write_log(fn), fn.account_id, fn.region)

        _patches.set(
            CloudWatchBackend,
            "get_metric_data",
            statistics.get_metric_data,
            expect="self, queries, start_time, end_time, scan_by",
        )
        _patches.set(
            CloudWatchBackend,
            "get_metric_statistics",
            statistics.get_metric_statistics,
            expect="self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit",
        )
        _patches.set(
            CloudWatchResponse,
            "get_metric_statistics",
            statistics.get_metric_statistics_response,
            expect="self",
        )
        _patches.set(moto_lambda, "write_log", write_log, expect="fn")


def uninstall() -> None:
    """Give moto back its own metrics, and moto_lambda its own write_log."""
    from localcloud import metric_statistics

    with _patches.lock:
        _patches.undo()
        metric_statistics.ORIGINAL_GET_METRIC_DATA.clear()
