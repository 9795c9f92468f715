"""`resizer metrics`: invocations, errors, throttles, duration percentiles, the Resizer metrics, and
the cleanup function's invocations and errors when the stack has one."""

import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import functions as functions_op
from operations import jsonable
from operations import logs as logs_op
from operations import metrics as metrics_op

BARS = "▁▂▃▄▅▆▇█"


@handles_errors
@targeted()
def metrics(
    since: Annotated[str, typer.Option(help="Start: 10m, 2h, 1d, 1w or ISO 8601.")] = "1h",
    until: Annotated[str | None, typer.Option(help="End (default now).")] = None,
    period: Annotated[int | None, typer.Option(help="Seconds per point, a multiple of 60.")] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh every period (Ctrl-C stops).")
    ] = False,
    *,
    options: Common,
) -> None:
    """Show the functions' metrics over a window, with a sparkline per metric (the resize function's,
    then the cleanup function's invocations, errors, throttles and longest run).

    Examples: resizer metrics · resizer metrics --since 1d --period 3600 · resizer metrics -o json
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    found = {f.role: f.name for f in functions_op.of_stack(clients, settings.target.stack)}
    while True:
        start = logs_op.parse_time(since)
        end = logs_op.parse_time(until) if until else datetime.now(UTC)
        step = metrics_op.default_period(start, end) if period is None else period
        report = metrics_op.function_metrics(
            clients, found["resize"], start=start, end=end, period=step, cleanup=found.get("cleanup", "")
        )
        if options.json:
            render.emit_json(jsonable.metrics_report(report))
        else:
            show(report)
        if not watch:
            return
        time.sleep(max(10, min(step, 60)))


def show(report: metrics_op.MetricsReport) -> None:
    render.out.print(
        f"[bold]{report.function}[/]  {report.start:%Y-%m-%d %H:%M} .. {report.end:%H:%M} UTC, "
        f"{report.period} s per point"
    )
    resize = [s for s in report.series if not s.key.startswith("cleanup_")]
    render.out.print(_table(resize))
    render.out.print(
        f"error rate: {_percent(report.error_rate)} Lambda errors (crashes, timeouts), "
        f"{_percent(report.server_error_rate)} 5xx answers (the function's internal_error)"
    )
    if report.cleanup_function:
        render.out.print(
            f"[bold]{report.cleanup_function}[/]  the cleanup (deletes resized images of changed originals)"
        )
        render.out.print(_table([s for s in report.series if s.key.startswith("cleanup_")]))
        render.out.print(
            f"cleanup error rate: {_percent(report.cleanup_error_rate)} Lambda errors "
            "(EventBridge invokes it asynchronously; Lambda retries a failed event twice)"
        )


def _table(series_list: list[metrics_op.Series]) -> "render.Table":
    table = render.table("metric", "stat", "window", "trend")
    for series in series_list:
        table.add_row(
            series.label, series.stat, _value(series.summary, series.unit), sparkline(series.values)
        )
    return table


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f} %"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1)))] for v in values)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "Milliseconds":
        return f"{value:.1f} ms"
    if unit == "Bytes":
        return f"{value:,.0f} B"
    return f"{value:,.0f}"
