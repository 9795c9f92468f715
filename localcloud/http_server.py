"""The local cloud's HTTP server: one event loop in front of werkzeug's threaded server, with read
timeouts, a connection bound and a fast path.

The loop (localcloud.http_loop) accepts every connection and answers the requests the server's
``fast`` callable answers (localcloud.fast_path: hits) itself, in one write each, keeping the
connection alive; every other request is handed unread to a werkzeug handler thread, which
answers it through the WSGI app and then closes the connection (it cannot tell where an unread
request body ends). A client that stops sending (a half-open connection, a body shorter than its
Content-Length) is cut off after ``read_timeout`` seconds of silence instead of holding a thread
forever, and at most ``max_connections`` are served at once: the next ones get an immediate
``503 SlowDown`` (SDKs retry it) and are closed, so a flood cannot exhaust threads or memory.
"""

import email.utils
import logging
import os
import socket
import threading
import time
from socketserver import ThreadingMixIn
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from localcloud import aws_errors, http_loop

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
        head = None
        if answer is not None:
            server_header = self.version_string()
            head = _head(self.protocol_version, server_header, self.close_connection, *answer)
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
        self._stopping = False
        self._stopped = threading.Event()
        self._stopped.set()  # nothing to wait for until serve_forever runs
        self._server_header = f"{self._server_version} {_Handler.sys_version}"  # as version_string()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Run the event loop until shutdown() (the loop replaces socketserver's accept loop)."""
        self._stopped.clear()
        loop = http_loop.Loop(
            self.socket,
            answer=self._answer,
            hand_off=lambda sock, address: ThreadingMixIn.process_request(self, sock, address),
            admit=lambda: self._slots.acquire(blocking=False),
            refuse=_refuse,
            release=self._slots.release,
            read_timeout=READ_TIMEOUT_S,
        )
        try:
            while not self._stopping:
                loop.run_once(poll_interval)
                self.service_actions()
        except KeyboardInterrupt:
            pass  # as werkzeug's serve_forever
        finally:
            loop.close()
            self._stopping = False
            self._stopped.set()
            self.server_close()

    def shutdown(self) -> None:
        """Stop serve_forever and wait for it (from another thread, as socketserver's)."""
        self._stopping = True
        self._stopped.wait()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _answer(self, head: http_loop.Head) -> tuple[bytes, int, int] | None:
        """The fast path's answer to a head, as bytes to send; None: a handler thread answers."""
        if self.fast is None:
            return None
        answer = self.fast(head.method, head.target, head.fields)
        if answer is None:
            return None
        status, _, body, length = answer
        head_bytes = _head(_Handler.protocol_version, self._server_header, head.close, *answer)
        return (head_bytes + body, status, length) if head_bytes is not None else None


def _head(
    protocol: str, server: str, close: bool, status: int, headers: list, _body: bytes, length: int
) -> bytes | None:
    """The status line and headers of a fast answer (None when a header is not Latin-1 or breaks
    a line)."""
    lines = [
        f"{protocol} {status} {HTTP_STATUS_CODES.get(status, '').upper()}",
        f"Server: {server}",
        f"Date: {_date()}",
        *(f"{name}: {value}" for name, value in headers),
        f"Content-Length: {length}",
    ]
    if close:  # the client asked for it (Connection: close, HTTP/1.0)
        lines.append("Connection: close")
    if any("\r" in line or "\n" in line for line in lines):
        return None  # a value with a line break: werkzeug refuses it on the full path, never sent raw
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        return None


_dates: tuple[int, str] = (0, "")


def _date() -> str:
    """The Date header's value, formatted once a second."""
    global _dates
    now = int(time.time())
    if _dates[0] != now:
        _dates = (now, email.utils.formatdate(now, usegmt=True))
    return _dates[1]


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
