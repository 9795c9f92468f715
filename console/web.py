"""Rendering helpers shared by the routes: the Jinja2 environment, its filters, the common context.

Every page extends templates/base.html, which needs the session's CSRF token (for the logout
form and for console.js), the navigation and a one-line summary of the AWS target; those come
from ``common`` so no route has to remember them. Autoescaping is on for every template.
"""

from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from console import security

HERE = Path(__file__).parent
NAV = [
    ("/", "Overview"),
    ("/deploy", "Deploy"),
    ("/images", "Images"),
    ("/invoke", "Invoke"),
    ("/logs", "Logs"),
    ("/metrics", "Metrics"),
    ("/destroy", "Destroy"),
]


def console_version() -> str:
    try:
        return version("lambda-resizer")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without an install
        return "dev"


def target_summary(request: Request) -> dict[str, Any] | None:
    """Stack, region and endpoint for the header; None when the configuration itself is broken."""
    workspace = request.app.state.console.workspace
    try:
        found, clients = workspace.target()
        region = clients.session.region_name or "?"
    except Exception:  # the header must render even on the error page of a broken configuration
        return None
    endpoint = clients.endpoint_url or ""
    return {
        "stack": found.target.stack,
        "region": region,
        "endpoint": endpoint,
        "local": clients.defaulted_to_local or endpoint.startswith(("http://127.0.0.1", "http://localhost")),
        "profile": found.target.profile or "",
    }


def common(request: Request) -> dict[str, Any]:
    session = security.session_of(request)
    path = request.url.path
    active = "/" if path == "/" else next((h for h, _ in NAV if h != "/" and path.startswith(h)), "")
    return {
        "authenticated": session is not None,
        "csrf_token": security.csrf_token(request),
        "csrf_field": security.CSRF_FIELD,
        "nav": NAV,
        "active": active if session is not None else "",
        "version": console_version(),
        "target": target_summary(request) if session is not None else None,
    }


def _bytes(value: float | int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(value)  # pragma: no cover


def _when(value: datetime | str | None) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def status_class(status: str) -> str:
    """A CSS class for a CloudFormation status word."""
    for word, css in (("FAILED", "bad"), ("ROLLBACK", "warn"), ("COMPLETE", "good"), ("PROGRESS", "busy")):
        if word in status:
            return css
    return ""


templates = Jinja2Templates(directory=str(HERE / "templates"), context_processors=[common])
templates.env.filters["bytes"] = _bytes
templates.env.filters["when"] = _when
templates.env.filters["status_class"] = status_class


def page(request: Request, name: str, status: int = 200, **context: Any) -> Any:
    return templates.TemplateResponse(request, name, context, status_code=status)


def done(request: Request, url: str, data: Any) -> Any:
    """After a change: JSON for scripts and console.js, else a redirect (POST, then GET)."""
    from fastapi.responses import JSONResponse, RedirectResponse

    return JSONResponse(data) if wants_json(request) else RedirectResponse(url, status_code=303)


def wants_json(request: Request) -> bool:
    """Whether to answer an error as JSON (API calls, scripts, console.js) rather than as a page."""
    accept = request.headers.get("accept", "")
    if request.url.path.startswith("/api/") or "application/json" in accept or "text/event-stream" in accept:
        return True
    if "text/html" in accept:
        return False
    return not security.is_page(request)
