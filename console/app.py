"""The console's FastAPI application: ``create_app(settings)``, and ``serve`` to run it with uvicorn.

Every route depends on ``security.guard`` (session, CSRF); every response gets the security
headers; every error goes through ``errors.handle``. OpenAPI and its docs pages are off: they
would be unauthenticated pages loading assets from a CDN.
"""

import logging
import socket
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from console import errors, security
from console import state as console_state
from console.routes import api, auth, cdn, deploy, destroy, images, invoke, logs, metrics, overview, sign
from console.settings import ConsoleSettings
from operations.errors import OperationError

__all__ = ["ConsoleSettings", "create_app", "serve"]

log = logging.getLogger("resizer.console")
STATIC = Path(__file__).parent / "static"


def create_app(settings: ConsoleSettings) -> FastAPI:
    app = FastAPI(
        title="resizer console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(security.guard)],
    )
    app.state.console = console_state.build(settings)
    for module in (auth, overview, cdn, deploy, images, invoke, logs, metrics, destroy, api, sign):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for kind in (OperationError, HTTPException, RequestValidationError, security.LoginRequired):
        app.add_exception_handler(kind, errors.handle)
    # Outermost last: headers on everything (even a 413), then unexpected errors, then the body limit.
    app.add_middleware(security.BodyLimit, limit=settings.max_upload_bytes + 1024 * 1024)
    app.add_middleware(errors.InternalErrors)
    workspace = app.state.console.workspace
    app.add_middleware(security.SecurityHeaders, image_origins=lambda: workspace.image_origins)
    return app


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a busy port is an OperationError, not uvicorn's exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OperationError(
            f"the console cannot listen on {host}:{port}: {exc.strerror}", hint="choose another --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(settings: ConsoleSettings) -> None:
    """Run the console until Ctrl-C or SIGTERM (uvicorn's handlers stop it).

    It runs as its own process (``python -m console``, started by operations.console_process).
    uvicorn logs warnings only and has no access log (URLs could carry secrets).
    """
    import uvicorn

    sock = bind(settings.host, settings.port)
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
