"""Authentication, CSRF and response headers: every request passes through here.

- Login: POST /login compares the submitted token with the configured one (hmac.compare_digest);
  success sets a signed session cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https).
  Repeated failures are throttled for the whole process.
- Sessions are stateless, ``<sid>.<expires>.<signature>``, HMAC-SHA256 under a key derived from the
  console's secret *and* its login token: changing either logs everyone out. Logout revokes the
  session id in memory until it would have expired.
- CSRF: each session's token is HMAC(key, "csrf", sid); forms carry it as the hidden field
  ``csrf_token``, console.js sends it as the ``X-CSRF-Token`` header. The login form, before any
  session, uses a signed nonce cookie the same way (so login itself cannot be forged).
- ``guard`` is a dependency of every route: no session → pages redirect to /login, everything
  else (API, event streams, POSTs) answers 401; a POST/PUT/PATCH/DELETE without a valid CSRF token
  is refused with 403.
- ``SecurityHeaders`` adds CSP (no inline script or style), X-Frame-Options, nosniff,
  Referrer-Policy and no-store to every response; ``BodyLimit`` refuses oversized bodies early.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

SESSION_COOKIE = "resizer_console"
LOGIN_COOKIE = "resizer_console_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ROUTES = frozenset({"login_page", "login"})  # route names reachable without a session
MAX_FAILURES = 10  # failed logins per minute, process-wide, before logins are refused for a while
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Session:
    sid: str
    expires: int
    csrf: str


class LoginRequired(Exception):
    """No valid session: a page redirects to /login, anything else answers 401."""

    def __init__(self, page: bool, next_path: str = "/") -> None:
        super().__init__("log in first")
        self.page = page
        self.next_path = next_path


class Sessions:
    """Issues, reads and revokes session cookies; checks login tokens and CSRF tokens."""

    def __init__(
        self,
        token: str,
        secret: bytes,
        hours: float = 12.0,
        clock: Callable[[], float] = time.time,
        revoked: dict[str, int] | None = None,
        on_revoked: Callable[[dict[str, int]], None] = lambda revoked: None,
    ):
        self._token = token.encode()
        self._key = hmac.new(secret, b"resizer-console\0" + self._token, hashlib.sha256).digest()
        self._lifetime = int(hours * 3600)
        self._clock = clock
        self._revoked: dict[str, int] = dict(revoked or {})  # kept across restarts by on_revoked
        self._on_revoked = on_revoked
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def _mac(self, *parts: str) -> str:
        digest = hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # --- the login token -------------------------------------------------------------------------
    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._token)

    def throttled(self) -> bool:
        with self._lock:
            now = self._clock()
            while self._failures and self._failures[0] < now - 60:
                self._failures.popleft()
            return len(self._failures) >= MAX_FAILURES

    def failed(self) -> None:
        with self._lock:
            self._failures.append(self._clock())

    # --- sessions --------------------------------------------------------------------------------
    def new(self) -> tuple[Session, str]:
        sid = secrets.token_urlsafe(18)
        expires = int(self._clock()) + self._lifetime
        session = Session(sid, expires, self._mac("csrf", sid))
        return session, f"{sid}.{expires}.{self._mac('session', sid, str(expires))}"

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or cookie.count(".") != 2:
            return None
        sid, expires, signature = cookie.split(".")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._mac("session", sid, expires)):
            return None
        if int(expires) < self._clock() or sid in self._revoked:
            return None
        return Session(sid, int(expires), self._mac("csrf", sid))

    def revoke(self, session: Session) -> None:
        with self._lock:
            now = self._clock()
            self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
            self._revoked[session.sid] = session.expires
            self._on_revoked(dict(self._revoked))

    @property
    def lifetime(self) -> int:
        return self._lifetime

    # --- the login form's CSRF, before there is a session ----------------------------------------
    def login_nonce(self, cookie: str | None) -> tuple[str, str]:
        """(nonce, cookie value): the valid nonce of the cookie, or a new one."""
        nonce = self._login_nonce(cookie)
        if nonce is None:
            nonce = secrets.token_urlsafe(18)
        return nonce, f"{nonce}.{self._mac('login-nonce', nonce)}"

    def _login_nonce(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 1:
            return None
        nonce, signature = cookie.split(".")
        return nonce if hmac.compare_digest(signature, self._mac("login-nonce", nonce)) else None

    def login_csrf(self, nonce: str) -> str:
        return self._mac("login-csrf", nonce)

    def expected_login_csrf(self, cookie: str | None) -> str | None:
        nonce = self._login_nonce(cookie)
        return self.login_csrf(nonce) if nonce else None


def is_page(request: Request) -> bool:
    """Whether the route renders HTML for a browser (a GET page), as opposed to an API or a stream."""
    route = request.scope.get("route")
    return (
        request.method in SAFE_METHODS
        and isinstance(route, APIRoute)
        and route.response_class is HTMLResponse
    )


def safe_next(path: str | None) -> str:
    """A local path to go back to after login; anything else (another origin, //host) is '/'."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def guard(request: Request) -> None:
    """The dependency every route has: a session for everything but login, CSRF for every change."""
    sessions: Sessions = request.app.state.console.sessions
    route = request.scope.get("route")
    public = getattr(route, "name", "") in PUBLIC_ROUTES
    session = sessions.read(request.cookies.get(SESSION_COOKIE))
    request.state.session = session
    if session is None and not public:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(is_page(request), path)
    if request.method in SAFE_METHODS:
        return
    if session is not None:
        expected = session.csrf
    else:
        expected = sessions.expected_login_csrf(request.cookies.get(LOGIN_COOKIE))
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")


def session_of(request: Request) -> Session | None:
    """The request's session: as the guard found it, or from the cookie where no route (so no
    guard) ran, e.g. a 404 page."""
    if hasattr(request.state, "session"):
        return request.state.session
    return request.app.state.console.sessions.read(request.cookies.get(SESSION_COOKIE))


def csrf_token(request: Request) -> str:
    session = session_of(request)
    return session.csrf if session else ""


def set_session_cookie(response: Any, request: Request, value: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def set_login_cookie(response: Any, request: Request, value: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


# --- response headers --------------------------------------------------------------------------------

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:\d+)?")


def content_security_policy(image_origins: set[str]) -> str:
    extra = " ".join(sorted(o for o in image_origins if _ORIGIN.fullmatch(o)))
    return (
        "default-src 'self'; "
        f"img-src 'self' data: blob: http://127.0.0.1:*{' ' + extra if extra else ''}; "
        "script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a route may set a stricter CSP)."""

    def __init__(self, app: Any, image_origins: Callable[[], set[str]]) -> None:
        self.app = app
        self.image_origins = image_origins

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = {
                    b"content-security-policy": content_security_policy(self.image_origins()),
                    b"x-frame-options": "DENY",
                    b"x-content-type-options": "nosniff",
                    b"referrer-policy": "no-referrer",
                    b"cross-origin-opener-policy": "same-origin",
                }
                if not static:
                    wanted[b"cache-control"] = "no-store"
                headers += [(k, v.encode()) for k, v in wanted.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """ASGI middleware: a request body must declare its length, and not exceed the limit (413)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = dict(scope.get("headers", []))
            length = headers.get(b"content-length")
            status, text = 0, ""
            if length is None and b"transfer-encoding" in headers:
                status, text = 411, "a request body needs a Content-Length"
            elif length is not None and (not length.isdigit() or int(length) > self.limit):
                status, text = 413, f"the request is larger than the {self.limit:,}-byte limit"
            if status:
                body = json.dumps({"error": "RequestRefused", "message": text, "hint": ""}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
