"""The local cloud's HTTP server: werkzeug's threaded server with read timeouts, a connection bound
and a fast path.

A client that stops sending (a half-open connection, a body shorter than its Content-Length) is
cut off after ``read_timeout`` seconds of silence instead of holding a thread forever, and at
most ``max_connections`` are served at once: the next ones get an immediate ``503 SlowDown``
(SDKs retry it) and are closed, so a flood cannot exhaust threads or memory. A request the
server's ``fast`` callable answers (localcloud.fast_path: hits) is written in one piece and its
connection kept alive; every other request goes to the WSGI app, and werkzeug then closes the
connection (it cannot tell where an unread request body ends).
"""

import logging
import os
import socket
import threading
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from localcloud import aws_errors

READ_TIMEOUT_S = float(os.environ.get("LOCALCLOUD_READ_TIMEOUT", "20"))
MAX_CONNECTIONS = int(os.environ.get("LOCALCLOUD_MAX_CONNECTIONS", "256"))
log = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    timeout = READ_TIMEOUT_S  # socketserver applies it to the connection: every read is bounded

    def run_wsgi(self) -> None:
        """The server's fast path (localcloud.fast_path) when it answers, else the WSGI app."""
        fast = getattr(self.server, "fast", None)
        answer = None
        if fast is not None:
            try:
                answer = fast(self.command, self.path, self.headers)
            except Exception:  # the full path answers it, and reports its error in the AWS shape
                log.debug("fast path failed on %s %s", self.command, self.path, exc_info=True)
        head = _head(self, *answer) if answer is not None else None
        if head is None:
            super().run_wsgi()  # werkzeug closes the connection after this answer
            return
        status, _, body, length = answer
        self.wfile.write(head + body)  # one write: no Nagle wait between head and body
        self.log_request(status, length)

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # an idle kept-alive connection, closed
            return
        super().log_error(format, *args)


class BoundedServer(ThreadedWSGIServer):
    """At most max_connections connections in service; the rest are refused politely."""

    request_queue_size = 1024
    fast: Any = None  # (method, target, headers) -> (status, headers, body, length) | None

    def __init__(self, host: str, port: int, app: Any, *, max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(host, port, app, handler=_Handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def _head(handler: WSGIRequestHandler, status: int, headers: list, _body: bytes, length: int) -> bytes | None:
    """The status line and headers of a fast answer (None when a header is not Latin-1 or breaks
    a line)."""
    lines = [
        f"{handler.protocol_version} {status} {HTTP_STATUS_CODES.get(status, '').upper()}",
        f"Server: {handler.version_string()}",
        f"Date: {handler.date_time_string()}",
        *(f"{name}: {value}" for name, value in headers),
        f"Content-Length: {length}",
    ]
    if handler.close_connection:  # the client asked for it (Connection: close, HTTP/1.0)
        lines.append("Connection: close")
    if any("\r" in line or "\n" in line for line in lines):
        return None  # a value with a line break: werkzeug refuses it on the full path, never sent raw
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        return None


def _refuse(connection: socket.socket) -> None:
    status, headers, body = aws_errors.s3_error(503, "SlowDown", "Too many connections; please retry")
    head = f"HTTP/1.1 {status} Service Unavailable\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    try:
        connection.settimeout(1.0)
        connection.sendall(head.encode() + body)
    except OSError:
        pass


def make_server(host: str, port: int, app: Any) -> BoundedServer:
    return BoundedServer(host, port, app)
