"""Login and logout pages: the token form, the session cookie, and revoking it."""

import logging
import time

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import security, state
from console.web import page

log = logging.getLogger("resizer.console")
THROTTLE_DELAY_S = 1.0  # per attempt, once too many have failed within a minute
router = APIRouter()


def _form(request: Request, next_path: str, status: int = 200, error: str = "") -> HTMLResponse:
    sessions = state.of(request).sessions
    nonce, cookie = sessions.login_nonce(request.cookies.get(security.LOGIN_COOKIE))
    response = page(
        request,
        "login.html",
        status,
        title="Log in",
        login_csrf=sessions.login_csrf(nonce),
        next_path=security.safe_next(next_path),
        error=error,
    )
    security.set_login_cookie(response, request, cookie)
    return response


@router.get("/login", response_class=HTMLResponse, name="login_page")
def login_page(request: Request, next: str = "/") -> Response:
    if request.state.session is not None:
        return RedirectResponse(security.safe_next(next), status_code=303)
    return _form(request, next)


@router.post("/login", response_class=HTMLResponse, name="login")
def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
    sessions = state.of(request).sessions
    client = request.client.host if request.client else "?"
    throttled = sessions.throttled()
    if throttled:  # slow guessing down, but never lock the owner of the right token out
        time.sleep(THROTTLE_DELAY_S)
    if not sessions.token_matches(token):
        sessions.failed()
        log.warning("failed console login from %s", client)
        if throttled:
            return _form(request, next, 429, "Too many failed attempts: wait a minute and try again.")
        return _form(request, next, 401, "That is not the console's token.")
    _, cookie = sessions.new()
    response = RedirectResponse(security.safe_next(next), status_code=303)
    security.set_session_cookie(response, request, cookie, sessions.lifetime)
    response.delete_cookie(security.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", name="logout")
def logout(request: Request) -> RedirectResponse:
    state.of(request).sessions.revoke(request.state.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response
