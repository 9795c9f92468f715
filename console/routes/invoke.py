"""Invoke (/invoke): saved test events (create, edit, delete), running one (or a resize path) once,
and the result: status, function error, HTTP response (an image inline), REPORT figures and
that request's log lines, as `resizer invoke` / `resizer resize` show them."""

import base64
import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from console import state
from console.features import cli
from console.saved_events import check_body, check_name, default_event
from console.web import done, page, wants_json
from operations import invoke as invoke_op
from operations import jsonable, redirects
from operations import logs as logs_op

router = APIRouter()
INLINE_IMAGE_BYTES = 6 * 1024 * 1024
TEXT_BYTES = 64 * 1024


def _invoke_page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    store = state.of(request).events
    events = store.all()
    new = request.query_params.get("new") == "1"
    wanted = extra.pop("selected_name", "") or request.query_params.get("event") or "resize"
    selected = None if new else next((e for e in events if e.name == wanted), events[0] if events else None)
    return page(
        request,
        "invoke.html",
        status,
        title="Invoke",
        events=events,
        selected=selected,
        folder=str(store.folder),
        new=new,
        template=default_event().body,  # a new event starts as a resize event, ready to edit
        saved=request.query_params.get("saved", "") if selected and selected.saved else "",
        **extra,
    )


def _pretty(event: logs_op.LogEvent) -> str:
    """A JSON log line indented and without its EMF metadata, as `resizer invoke` prints it."""
    data = event.json_without_emf
    return event.message if data is None else json.dumps(data, indent=2, default=str)


def result_view(result: invoke_op.InvokeResult) -> dict[str, Any]:
    http = result.http
    view: dict[str, Any] = {
        "request_id": result.request_id,
        "function_error": result.function_error,
        "report": vars(result.report) if result.report else None,
        "log": [{"time": e.timestamp.isoformat(), "message": _pretty(e)} for e in result.log],
        "http": None,
        "payload": None,
    }
    if http is not None:
        is_image = http.content_type.startswith("image/") and len(http.body) <= INLINE_IMAGE_BYTES
        view["http"] = {
            "status": http.status,
            "headers": http.headers,
            "body_bytes": len(http.body),
            "content_type": http.content_type,
            "image": f"data:{http.content_type};base64,{base64.b64encode(http.body).decode()}"
            if is_image
            else None,
            "redirect": redirects.location(http),
            "text": None
            if http.content_type.startswith("image/")
            else http.body[:TEXT_BYTES].decode("utf-8", "replace"),
        }
    else:
        value = result.payload_json
        view["payload"] = (
            json.dumps(value, indent=2)
            if value is not None
            else result.payload[:TEXT_BYTES].decode("utf-8", "replace")
        )
    return view


def _run(request: Request, payload: bytes, label: str, selected_name: str = "", resize_path: str = "") -> Any:
    console = state.of(request)
    _, clients = console.workspace.target()
    function, group = console.workspace.function()
    result = invoke_op.invoke(clients, function, payload, log_group=group, sleep=console.settings.sleep)
    if wants_json(request):  # as `resizer invoke -o json` prints it
        return jsonable.invoke_result(result)
    view = result_view(result)
    return _invoke_page(
        request,
        result=view,
        ran=label,
        function=function,
        selected_name=selected_name,
        resize_path=resize_path,
    )


@router.get("/invoke", response_class=HTMLResponse, name="invoke_page")
def invoke_page(request: Request) -> HTMLResponse:
    return _invoke_page(request)


@router.post("/invoke/events", name="invoke_save")
def save(request: Request, name: str = Form(...), body: str = Form("")) -> Any:
    saved = state.of(request).events.save(check_name(name), body)
    return done(request, f"/invoke?event={quote(saved.name)}&saved=1", {"saved": saved.name})


@router.post("/invoke/events/{name}/delete", name="invoke_delete")
def delete(request: Request, name: str) -> Any:
    state.of(request).events.delete(check_name(name))
    return done(request, "/invoke", {"deleted": name})


@router.post("/invoke/run", name="invoke_run", openapi_extra=cli("invoke"))
def run(request: Request, body: str = Form(""), name: str = Form("")) -> Any:
    if not body.strip() and name:
        body = state.of(request).events.get(check_name(name)).body
    payload = check_body(body).encode()
    return _run(request, payload, f"event {name}" if name else "the payload", selected_name=name)


@router.post("/invoke/resize", name="invoke_resize", openapi_extra=cli("resize"))
def resize(request: Request, path: str = Form(...)) -> Any:
    event = invoke_op.resize_event(path)
    shown = path.strip().lstrip("/")
    return _run(request, json.dumps(event).encode(), f"GET /{shown}", resize_path=shown)
