"""Logs (/logs): a live tail over Server-Sent Events with operations.logs.follow in a thread, the
same --since, --filter and --function (resize, cleanup, all) semantics as `resizer logs`; the page
groups lines by request and names each line's function. /api/logs answers the lines of a time range
as `resizer logs -o json` prints them."""

import json
import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from console import sse, state
from console.errors import describe
from console.features import cli
from console.web import page
from operations import functions as functions_op
from operations import jsonable
from operations import logs as logs_op
from operations.errors import OperationError, StackNotFound

router = APIRouter()
API_LIMIT = 10_000  # lines one /api/logs answer holds at most


def shown(event: logs_op.LogEvent) -> str:
    """The line as the console shows it: a JSON line without its EMF metadata (as the CLI does)."""
    data = event.json
    if data is None or "_aws" not in data:  # as written, unless there is EMF metadata to leave out
        return event.message
    return json.dumps(event.json_without_emf, default=str)


def line(event: logs_op.LogEvent) -> dict[str, Any]:
    """A line of the live tail as the page's script reads it."""
    marker = event.request_marker
    return {
        "time": event.timestamp.isoformat(),
        "stream": event.stream,
        "message": shown(event),
        "marker": list(marker) if marker else None,
        "request": event.request_id,
        "level": event.level,
        "id": event.event_id,
        "function": event.function,
    }


@router.get("/logs", response_class=HTMLResponse, name="logs_page")
def logs_page(request: Request, since: str = "10m", filter: str = "", function: str = "all") -> HTMLResponse:
    console = state.of(request)
    problem, sources = "", []
    try:
        logs_op.parse_time(since)
        sources = console.workspace.functions(function)
    except StackNotFound as exc:
        problem = exc.message
    except OperationError as exc:
        problem = exc.message + (f" ({exc.hint})" if exc.hint else "")
    return page(
        request,
        "logs.html",
        title="Logs",
        since=since,
        filter=filter,
        function=function if function in functions_op.CHOICES else "all",
        choices=functions_op.CHOICES,
        sources=sources,
        problem=problem,
        stream=f"/logs/stream?{request.url.query}" if request.url.query else "/logs/stream",
    )


@router.get("/logs/stream", name="logs_stream", openapi_extra=cli("logs"))
def stream(
    request: Request, since: str = "10m", filter: str = "", function: str = "all"
) -> StreamingResponse:
    console = state.of(request)
    start = logs_op.parse_time(since)  # a bad --since or --function is a 400 before the stream starts
    _, clients = console.workspace.target()
    sources = console.workspace.functions(function)

    def produce(stop: threading.Event, emit: Callable[[str, Any], None]) -> None:
        try:
            for event in logs_op.follow(
                clients,
                sources,
                start=start,
                pattern=filter,
                sleep=stop.wait,
                stop=stop.is_set,  # follow tails live on AWS (StartLiveTail) and polls elsewhere
                on_sampled=lambda sampled: emit("sampled", {"sampled": sampled}),
            ):
                emit("line", line(event))
        except OperationError as exc:
            emit("failure", describe(exc))
        emit("end", {})

    return sse.response(sse.from_thread(request, produce, name="console-logs"))


@router.get("/api/logs", name="api_logs", openapi_extra=cli("logs"))
def api_logs(
    request: Request, since: str = "10m", until: str = "", filter: str = "", function: str = "all"
) -> JSONResponse:
    """The lines in [since, until] of the chosen functions (resize, cleanup, all), oldest first (no
    log group yet: none), each as the CLI's JSON; ``groups`` maps each function to its log group."""
    console = state.of(request)
    start = logs_op.parse_time(since)
    end = logs_op.parse_time(until) if until else None
    _, clients = console.workspace.target()
    sources = console.workspace.functions(function)
    found = logs_op.merged(clients, sources, start=start, end=end, pattern=filter, limit=API_LIMIT)
    return JSONResponse(
        {
            "group": sources[0].log_group,  # the first function's (as before there were two)
            "groups": {s.role: s.log_group for s in sources},
            "events": [jsonable.log_event(e) for e in found],
        }
    )
