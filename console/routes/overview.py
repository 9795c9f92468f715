"""Overview (/): the stack's status and outputs, the functions' configuration (the resizer's, the
cleanup's and its rule's state), the last hour's invocations, errors and p99 duration (and the
cleanup's invocations and errors), both functions' recent error lines, and how images are delivered (the
CDN URL, the distribution and its recent invalidations, a form to invalidate paths). A missing
stack is a call to deploy, not an error; a section that fails (no CloudWatch access...) says so
in place."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from console import charts, state
from console.delivery import overview_card
from console.errors import describe
from console.features import cli
from console.web import page
from operations import alarms as alarms_op
from operations import functions as functions_op
from operations import jsonable
from operations import logs as logs_op
from operations import metrics as metrics_op
from operations import status as status_op
from operations.errors import OperationError, StackNotFound

router = APIRouter()
LINKS = ("CdnUrl", "WebsiteUrl", "ApiUrl")  # outputs shown as links


def _health(clients: Any, function: str, cleanup: str, now: datetime) -> dict[str, Any]:
    report = metrics_op.function_metrics(
        clients, function, start=now - timedelta(hours=1), end=now, period=300, cleanup=cleanup
    )
    figures = {}
    for key in ("invocations", "errors", "duration_p99", "cleanup_invocations", "cleanup_errors"):
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
        "cleanup": bool(cleanup),
        "cleanup_error_rate": report.cleanup_error_rate,
    }


def _recent_errors(
    clients: Any, sources: list[functions_op.Function], now: datetime
) -> list[logs_op.LogEvent]:
    """The last 20 error lines of the hour, of every function, interleaved by time."""
    return logs_op.errors(clients, sources, start=now - timedelta(hours=1))[-20:]


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
    if result.function:  # named by the FunctionName output, so of_outputs lists it first
        name = result.function.name
        sources = functions_op.of_outputs(result.outputs)
        cleanup = next((s.name for s in sources if s.role == "cleanup"), "")
        health, health_error = _section(lambda: _health(clients, name, cleanup, now))
        errors, errors_error = _section(lambda: _recent_errors(clients, sources, now))
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
    return JSONResponse(jsonable.stack_status(result, status_op.secret_parameters()))
