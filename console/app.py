"""The console's FastAPI application: ``create_app(settings)``, and ``serve`` to run it with uvicorn.

Every route depends on ``security.guard`` (session, CSRF); every response gets the security
headers; every error goes through ``errors.handle``. OpenAPI and its docs pages are off: they
would be unauthenticated pages loading assets from a CDN.
"""

import logging
import socket
import threading
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


def serve(
    settings: ConsoleSettings,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the console until stopped (Ctrl-C in the main thread, or ``stop`` set from another).

    ``ready`` is set once it accepts connections, so `resizer up` can run it in a thread and then
    print its URL. uvicorn logs warnings only and has no access log (URLs could carry secrets).
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
    server = uvicorn.Server(config)

    def watch() -> None:
        while not server.started and not server.should_exit:
            if stop is not None and stop.wait(0.05):
                server.should_exit = True
            elif stop is None:
                threading.Event().wait(0.05)
        if ready is not None and server.started:
            ready.set()
        if stop is not None:
            stop.wait()
            server.should_exit = True

    threading.Thread(target=watch, name="console-watch", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
