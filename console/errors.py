"""The one table mapping operations' error types to HTTP statuses, and the one handler applying it.

Pages get a readable error page, API calls and scripts get JSON ``{"error", "message", "hint"}``
(``wants_json`` decides). Choices worth knowing:

- NoCredentials, NoRegion and EndpointUnreachable are 503: the console's own AWS configuration or
  its endpoint is the problem, not the user's request (which may well succeed later).
- DeployFailed and AwsError are 502: the request was fine, CloudFormation or another AWS service
  failed to carry it out (the body names the resource and the root cause).
- PackagingFailed, LocalStateUnreadable and a bare OperationError are 500: something on the console's
  side failed.
- Cancelled, StackBusy, StackNeedsAttention and AlreadyRunning are 409: the state of things forbids it now.

Anything that is not an OperationError (a bug) is logged here with its traceback and answered
with a 500 that shows neither the traceback nor the exception's text.
"""

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from console import security, web
from operations import errors

log = logging.getLogger("resizer.console")

# Most specific first: the first matching row wins.
STATUSES: list[tuple[type[errors.OperationError], int]] = [
    (errors.Cancelled, 409),
    (errors.ConfigError, 400),
    (errors.NoCredentials, 503),
    (errors.NoRegion, 503),
    (errors.EndpointUnreachable, 503),
    (errors.AccessDenied, 403),
    (errors.StackNotFound, 404),
    (errors.NotFound, 404),
    (errors.StackBusy, 409),
    (errors.StackNeedsAttention, 409),
    (errors.TemplateInvalid, 422),
    (errors.DeployFailed, 502),
    (errors.PackagingFailed, 500),
    (errors.AwsError, 502),
    (errors.AlreadyRunning, 409),
    (errors.LocalStateUnreadable, 500),
    (errors.OperationError, 500),
]

_TITLES = {
    400: "Bad request",
    401: "Log in first",
    403: "Forbidden",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid",
    429: "Too many attempts",
    500: "Something went wrong",
    502: "AWS could not do it",
    503: "AWS is not reachable",
}


def status_of(error: errors.OperationError) -> int:
    return next(code for kind, code in STATUSES if isinstance(error, kind))


def describe(error: errors.OperationError) -> dict[str, Any]:
    """The JSON body of an operations error (also used for failures reported over event streams)."""
    body: dict[str, Any] = {"error": type(error).__name__, "message": error.message, "hint": error.hint}
    if isinstance(error, errors.TemplateInvalid):
        body["problems"] = error.problems
    if isinstance(error, errors.DeployFailed):
        body |= {"resource": error.resource, "reason": error.reason}
    if isinstance(error, errors.AwsError) and error.code:
        body["code"] = error.code
    return body


async def handle(request: Request, exc: Exception) -> Any:
    """The console's exception handler: every error, expected or not, is answered here."""
    if isinstance(exc, security.LoginRequired):
        if exc.page:
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)
        status, body = 401, {"error": "LoginRequired", "message": "log in first", "hint": "POST /login"}
    elif isinstance(exc, errors.OperationError):
        status, body = status_of(exc), describe(exc)
    elif isinstance(exc, HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"there is nothing at {request.url.path}"
        status, body = exc.status_code, {"error": "RequestRefused", "message": message, "hint": ""}
    elif isinstance(exc, RequestValidationError):
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        status = 400
        body = {
            "error": "RequestRefused",
            "message": f"missing or invalid field(s): {', '.join(fields)}",
            "hint": "",
        }
    else:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        status = 500
        body = {
            "error": "InternalError",
            "message": "internal error: the console's log has the details",
            "hint": "",
        }
    headers = dict(getattr(exc, "headers", None) or {})
    if web.wants_json(request):
        return JSONResponse(body, status_code=status, headers=headers)
    return web.page(
        request, "error.html", status, title=_TITLES.get(status, "Error"), status_code=status, error=body
    )


class InternalErrors:
    """ASGI middleware: unexpected exceptions get the same handler (instead of Starlette's debug page)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:  # a stream failed half-way: nothing left to answer with
                log.error("internal error in a response to %s", scope.get("path"), exc_info=exc)
                return
            response = await handle(Request(scope, receive), exc)
            await response(scope, receive, send)
