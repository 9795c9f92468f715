"""Metrics (/metrics): a window selector and server-side SVG charts of the function's Lambda and
Resizer metrics and of the cleanup function's invocations and errors, with the summary table
`resizer metrics` prints (the same GetMetricData numbers)."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from console import charts, state
from console.features import cli
from console.web import page
from operations import jsonable
from operations import logs as logs_op
from operations import metrics as metrics_op
from operations.errors import ConfigError, StackNotFound

router = APIRouter()
WINDOWS = ("1h", "3h", "1d", "1w")
CHARTS = [  # title, series keys, kind
    ("Invocations", ("invocations",), "bar"),
    ("Errors and throttles", ("errors", "throttles"), "bar"),
    ("Duration", ("duration_avg", "duration_p50", "duration_p99"), "line"),
    ("Concurrent executions", ("concurrency",), "line"),
    ("Resize time (Resizer)", ("resize_p50", "resize_p99"), "line"),
    ("Output bytes (Resizer)", ("output_bytes",), "bar"),
    (
        "Cleanup: runs, errors and throttles",
        ("cleanup_invocations", "cleanup_errors", "cleanup_throttles"),
        "bar",
    ),
    ("Cleanup: longest run", ("cleanup_duration_max",), "line"),
]


def _report(request: Request, window: str) -> metrics_op.MetricsReport:
    if window not in WINDOWS:
        raise ConfigError(f"unknown window {window!r}", hint=f"one of {', '.join(WINDOWS)}")
    console = state.of(request)
    _, clients = console.workspace.target()
    found = {f.role: f.name for f in console.workspace.functions()}
    end = datetime.now(UTC)
    start = logs_op.parse_time(window, end)
    return metrics_op.function_metrics(
        clients,
        found["resize"],
        start=start,
        end=end,
        period=metrics_op.default_period(start, end),
        cleanup=found.get("cleanup", ""),
    )


def _charts(report: metrics_op.MetricsReport) -> list[dict[str, Any]]:
    drawn = []
    groups = [*CHARTS]
    codes = tuple(s.key for s in report.series if s.key.startswith("errors_"))
    if codes:
        groups.append(("Errors by code (Resizer)", codes, "bar"))
    for title, keys, kind in groups:
        series = [s for key in keys if (s := report.get(key)) is not None]
        if not series:
            continue
        lines = [charts.Line(s.label, s.timestamps, s.values) for s in series]
        drawn.append(
            {
                "title": title,
                "svg": charts.chart(
                    title, lines, series[0].unit, report.start, report.end, kind=kind, period_s=report.period
                ),
                "legend": [s.label for s in series],
            }
        )
    return drawn


@router.get("/metrics", response_class=HTMLResponse, name="metrics_page", openapi_extra=cli("metrics"))
def metrics_page(request: Request, window: str = "1h") -> HTMLResponse:
    found = state.of(request).workspace.settings()
    try:
        report = _report(request, window)
    except StackNotFound:
        return page(
            request,
            "metrics.html",
            title="Metrics",
            missing=True,
            stack=found.target.stack,
            windows=WINDOWS,
            window=window,
        )
    summary = [
        {
            "label": s.label,
            "stat": s.stat,
            "value": "-" if s.summary is None else charts.format_value(s.summary, s.unit),
        }
        for s in report.series
    ]
    return page(
        request,
        "metrics.html",
        title="Metrics",
        missing=False,
        windows=WINDOWS,
        window=window,
        report=report,
        charts=_charts(report),
        summary=summary,
        error_rate=report.error_rate,
        server_error_rate=report.server_error_rate,
        cleanup_error_rate=report.cleanup_error_rate,
    )


@router.get("/api/metrics", name="api_metrics", openapi_extra=cli("metrics"))
def api_metrics(request: Request, window: str = "1h") -> JSONResponse:
    return JSONResponse(jsonable.metrics_report(_report(request, window)))
