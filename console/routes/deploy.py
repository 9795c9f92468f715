"""Deploy (/deploy): parameter overrides → Plan (a change set, kept here by id) → Execute in the
background, followed over Server-Sent Events, or Discard; and Build/publish the function package."""

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.exceptions import HTTPException

from console import sse, state
from console.features import cli
from console.state import PlanEntry
from console.web import done, page, wants_json
from operations import deploy as deploy_op
from operations import jsonable
from operations import package as package_op
from operations import status as status_op
from operations.errors import ConfigError, NotFound, OperationError, StackBusy

router = APIRouter()
PLATFORMS = ("arm64", "x86_64", "local")


def parse_parameters(text: str) -> list[str]:
    """Name=Value lines (blank lines and # comments skipped) as operations.config takes them."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"parameter line {number} is not Name=Value", hint="e.g. MemorySize=2048")
        found.append(f"{name.strip()}={value.strip()}")
    return found


def _platform(value: str, *, default: str | None) -> str | None:
    value = value.strip()
    if not value:
        return default
    if value not in PLATFORMS:
        raise ConfigError(f"unknown platform {value!r}", hint=f"one of {', '.join(PLATFORMS)}")
    return value


def plan_json(entry: PlanEntry) -> dict[str, Any]:
    """The plan as `resizer deploy -o json` prints it, with where to follow it in this console."""
    return {
        "id": entry.id,
        **jsonable.deploy_plan(entry.plan),
        "page": f"/deploy/{entry.id}",
        "events": f"/deploy/{entry.id}/events",
    }


def _current(request: Request) -> dict[str, Any] | None:
    try:
        described = state.of(request).workspace.description()
    except OperationError:
        return None
    return {"status": described["StackStatus"], "reason": described.get("StackStatusReason", "")}


def _entry(request: Request, plan_id: str) -> PlanEntry:
    entry = state.of(request).plans.get(plan_id)
    if entry is None:
        raise NotFound(
            f"no plan {plan_id!r} in this console", hint="plans are forgotten on restart: plan again"
        )
    return entry


def _deploy_page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    console = state.of(request)
    found = console.workspace.settings()
    hidden = status_op.secret_parameters()
    configured = {k: ("(hidden)" if k in hidden else v) for k, v in sorted(found.parameters.items())}
    return page(
        request,
        "deploy.html",
        status,
        title="Deploy",
        stack=found.target.stack,
        current=_current(request),
        configured=configured,
        config_file=str(found.config_file or ""),
        platforms=PLATFORMS,
        recent=console.plans.recent(),
        **extra,
    )


@router.get("/deploy", response_class=HTMLResponse, name="deploy_page")
def deploy_page(request: Request) -> HTMLResponse:
    return _deploy_page(request, discarded=request.query_params.get("discarded") == "1")


@router.post("/deploy/plan", name="deploy_plan", openapi_extra=cli("deploy"))
def plan(
    request: Request, parameters: str = Form(""), platform: str = Form(""), force: bool = Form(False)
) -> Any:
    console = state.of(request)
    found = console.workspace.settings(parse_parameters(parameters))
    clients = console.workspace.clients(found)
    if console.runs.active(found.target.stack):
        raise StackBusy(f"a deploy or destroy of {found.target.stack} is running in this console")
    planned = deploy_op.plan(
        clients, found, platform=_platform(platform, default=None), sleep=console.settings.sleep, force=force
    )
    entry = console.plans.add(planned, clients)
    return done(request, f"/deploy/{entry.id}", plan_json(entry))


@router.post("/deploy/package", name="deploy_package", openapi_extra=cli("package"))
def build_package(request: Request, platform: str = Form("arm64"), publish: bool = Form(False)) -> Any:
    artifact = package_op.build(_platform(platform, default="arm64") or "arm64")
    published = None
    if publish:
        console = state.of(request)
        published = package_op.publish(console.workspace.clients(), artifact)
    result = jsonable.packaged(artifact, published)
    if wants_json(request):
        return result
    return _deploy_page(request, package_result=result)


@router.get("/deploy/{plan_id}", response_class=HTMLResponse, name="deploy_plan_page")
def plan_page(request: Request, plan_id: str) -> HTMLResponse:
    entry = _entry(request, plan_id)
    run = state.of(request).runs.get(entry.run_id, "deploy") if entry.run_id else None
    return page(request, "deploy_plan.html", title="Deploy plan", entry=entry, planned=entry.plan, run=run)


@router.post("/deploy/{plan_id}/execute", name="deploy_execute", openapi_extra=cli("deploy"))
def execute(request: Request, plan_id: str) -> Any:
    console = state.of(request)
    with console.plans.lock:
        entry = _entry(request, plan_id)
        if entry.discarded:
            raise HTTPException(409, "this plan was discarded: plan again")
        if entry.plan.no_changes:
            raise HTTPException(409, "nothing to execute: the stack is up to date")
        if entry.run_id is None:
            planned, clients, settings = entry.plan, entry.clients, console.settings
            run = console.runs.start(
                "deploy",
                planned.stack,
                lambda: deploy_op.execute(clients, planned, sleep=settings.sleep, poll=settings.poll),
            )
            entry.run_id = run.id
    return done(request, f"/deploy/{plan_id}", {"run": entry.run_id, "events": f"/deploy/{plan_id}/events"})


@router.get("/deploy/{plan_id}/events", name="deploy_events", openapi_extra=cli("deploy"))
def events(request: Request, plan_id: str) -> StreamingResponse:
    entry = _entry(request, plan_id)
    run = state.of(request).runs.get(entry.run_id, "deploy") if entry.run_id else None
    if run is None:
        raise NotFound("this plan has not been executed", hint="press Execute first")
    return sse.response(sse.replay(request, run))


@router.post("/deploy/{plan_id}/discard", name="deploy_discard", openapi_extra=cli("deploy"))
def discard(request: Request, plan_id: str) -> Any:
    console = state.of(request)
    with console.plans.lock:
        entry = _entry(request, plan_id)
        if entry.run_id is not None:
            raise HTTPException(409, "this plan is being executed: it cannot be discarded")
        if not entry.discarded:
            deploy_op.discard(entry.clients, entry.plan)
            entry.discarded = True
    return done(request, "/deploy?discarded=1", {"discarded": plan_id})
