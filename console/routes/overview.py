"""Overview (/): the stack's status and outputs, the function's configuration, the last hour's
invocations, errors and p99 duration, its recent error lines, and how images are delivered (the
CDN URL, the distribution and its recent invalidations, a form to invalidate paths). A missing
stack is a call to deploy, not an error; a section that fails (no CloudWatch access...) says so
in place."""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from console import charts, state
from console.errors import describe
from console.features import cli
from console.routes.cdn import overview_card
from console.web import page
from console.workspace import secret_parameters
from operations import alarms as alarms_op
from operations import logs as logs_op
from operations import metrics as metrics_op
from operations import status as status_op
from operations.errors import OperationError, StackNotFound

router = APIRouter()
ERROR_PATTERN = '?ERROR ?"Task timed out"'
LINKS = ("CdnUrl", "WebsiteUrl", "ApiUrl")  # outputs shown as links


def is_error(event: logs_op.LogEvent) -> bool:
    """Whether a log line reports an error (the filter pattern may be loose: this is the check)."""
    data = event.json
    if data is not None:
        return str(data.get("level", "")).upper() in ("ERROR", "CRITICAL", "FATAL")
    text = event.message
    return (
        "[ERROR]" in text
        or "Task timed out" in text
        or text.startswith("Traceback")
        or " ERROR " in f" {text} "
    )


def _health(clients: Any, function: str, now: datetime) -> dict[str, Any]:
    report = metrics_op.function_metrics(
        clients, function, start=now - timedelta(hours=1), end=now, period=300
    )
    figures = {}
    for key in ("invocations", "errors", "duration_p99"):
        series = report.get(key)
        values = series.values if series else []
        figures[key] = {
            "value": series.summary if series else None,
            "text": "-"
            if not series or series.summary is None
            else charts.format_value(series.summary, series.unit),
            "spark": charts.sparkline(values, series.label if series else key),
        }
    return {
        "figures": figures,
        "error_rate": report.error_rate,
        "server_error_rate": report.server_error_rate,
    }


def _recent_errors(clients: Any, group: str, now: datetime) -> list[logs_op.LogEvent]:
    found = logs_op.events(clients, group, start=now - timedelta(hours=1), pattern=ERROR_PATTERN, limit=500)
    return [e for e in found if is_error(e)][-20:]


def _section(work: Any) -> tuple[Any, dict[str, Any] | None]:
    try:
        return work(), None
    except OperationError as exc:
        return None, describe(exc)


@router.get("/", response_class=HTMLResponse, name="overview", openapi_extra=cli("status"))
def overview(request: Request, invalidation: str = "") -> HTMLResponse:
    console = state.of(request)
    found, clients = console.workspace.target()
    try:
        result = status_op.status(clients, found.target.stack)
    except StackNotFound:
        return page(request, "overview.html", title="Overview", missing=True, stack=found.target.stack)
    console.workspace.remember(result.outputs)
    now = datetime.now(UTC)
    health, health_error = (None, None)
    errors, errors_error = (None, None)
    if result.function:
        name = result.function.name
        group = result.outputs.get("LogGroupName") or f"/aws/lambda/{name}"
        health, health_error = _section(lambda: _health(clients, name, now))
        errors, errors_error = _section(lambda: _recent_errors(clients, group, now))
    alarms, alarms_error = _section(lambda: alarms_op.alarm_states(clients, result.resources))
    return page(
        request,
        "overview.html",
        title="Overview",
        missing=False,
        stack=found.target.stack,
        result=result,
        links={k: v for k, v in result.outputs.items() if k in LINKS},
        other_outputs={k: v for k, v in result.outputs.items() if k not in LINKS},
        cdn=overview_card(clients, result.delivery, invalidation) if result.delivery else None,
        health=health,
        health_error=health_error,
        errors=errors,
        errors_error=errors_error,
        alarms=alarms,
        alarms_error=alarms_error,
    )


@router.get("/api/status", name="api_status", openapi_extra=cli("status"))
def api_status(request: Request) -> JSONResponse:
    found, clients = state.of(request).workspace.target()
    result = status_op.status(clients, found.target.stack)
    body = dataclasses.asdict(result)
    hidden = secret_parameters()
    body["parameters"] = {k: v for k, v in body["parameters"].items() if k not in hidden}
    return JSONResponse(jsonable(body))


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
