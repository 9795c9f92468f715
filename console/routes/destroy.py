"""Destroy (/destroy): what operations.destroy.plan will delete and keep, a typed confirmation
(the stack name; and the bucket name to delete the images too), then the deletion in the
background, followed over Server-Sent Events like a deploy."""

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from console import sse, state
from console.features import cli
from console.web import done, page, wants_json
from operations import destroy as destroy_op
from operations.errors import ConfigError, NotFound, OperationError, StackBusy, StackNotFound

router = APIRouter()


@router.get("/destroy", response_class=HTMLResponse, name="destroy_page")
def destroy_page(request: Request) -> HTMLResponse:
    console = state.of(request)
    found, clients = console.workspace.target()
    name = found.target.stack
    try:
        planned = destroy_op.plan(clients, name)
    except StackNotFound:
        return page(request, "destroy.html", title="Destroy", missing=True, stack=name)
    except OperationError as exc:  # busy, unreachable...: say so on the page, keep the form away
        return page(
            request,
            "destroy.html",
            title="Destroy",
            missing=False,
            stack=name,
            blocked=exc.message,
            planned=None,
        )
    return page(
        request, "destroy.html", title="Destroy", missing=False, stack=name, planned=planned, blocked=""
    )


@router.post("/destroy", name="destroy", openapi_extra=cli("destroy"))
def destroy(
    request: Request,
    confirm_stack: str = Form(""),
    delete_images: bool = Form(False),
    confirm_bucket: str = Form(""),
) -> Any:
    console = state.of(request)
    found, clients = console.workspace.target()
    name = found.target.stack
    try:
        if confirm_stack.strip() != name:
            raise ConfigError("the typed stack name does not match: nothing was deleted", hint=f"type {name}")
        planned = destroy_op.plan(clients, name, delete_images=delete_images)
        if delete_images and confirm_bucket.strip() != planned.bucket:
            raise ConfigError(
                "to delete the images, type the bucket's name: nothing was deleted",
                hint=f"type {planned.bucket}",
            )
    except ConfigError as refused:
        if wants_json(request):
            raise
        return _form_again(request, clients, name, refused, delete_images)
    if console.runs.active(name):
        raise StackBusy(f"a deploy or destroy of {name} is running in this console")
    settings = console.settings
    run = console.runs.start(
        "destroy",
        name,
        lambda: destroy_op.destroy(clients, planned, sleep=settings.sleep, poll=settings.poll),
    )
    return done(request, f"/destroy/{run.id}", {"run": run.id, "events": f"/destroy/{run.id}/events"})


def _form_again(request: Request, clients: Any, name: str, refused: ConfigError, delete_images: bool) -> Any:
    """The form once more, with what was wrong beside it (400), rather than an error page."""
    planned = destroy_op.plan(clients, name)
    field = "confirm_bucket" if "bucket" in refused.message else "confirm_stack"
    return page(
        request,
        "destroy.html",
        400,
        title="Destroy",
        missing=False,
        stack=name,
        planned=planned,
        blocked="",
        problem={"field": field, "message": f"{refused.message} ({refused.hint})"},
        delete_images=delete_images,
    )


def _run(request: Request, run_id: str) -> Any:
    run = state.of(request).runs.get(run_id, "destroy")
    if run is None:
        raise NotFound(f"no destroy run {run_id!r} in this console")
    return run


@router.get("/destroy/{run_id}", response_class=HTMLResponse, name="destroy_run_page")
def run_page(request: Request, run_id: str) -> HTMLResponse:
    run = _run(request, run_id)
    return page(request, "destroy_run.html", title="Destroying", run=run)


@router.get("/destroy/{run_id}/events", name="destroy_events", openapi_extra=cli("destroy"))
def events(request: Request, run_id: str) -> StreamingResponse:
    return sse.response(sse.replay(request, _run(request, run_id)))
