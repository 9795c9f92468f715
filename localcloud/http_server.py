"""The local cloud's HTTP server: werkzeug's threaded server with read timeouts and a connection bound.

A client that stops sending (a half-open connection, a body shorter than its Content-Length) is
cut off after ``read_timeout`` seconds of silence instead of holding a thread forever, and at
most ``max_connections`` are served at once: the next ones get an immediate ``503 SlowDown``
(SDKs retry it) and are closed, so a flood cannot exhaust threads or memory.
"""

import os
import socket
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from localcloud import aws_errors

READ_TIMEOUT_S = float(os.environ.get("LOCALCLOUD_READ_TIMEOUT", "20"))
MAX_CONNECTIONS = int(os.environ.get("LOCALCLOUD_MAX_CONNECTIONS", "256"))


class _Handler(WSGIRequestHandler):
    timeout = READ_TIMEOUT_S  # socketserver applies it to the connection: every read is bounded


class BoundedServer(ThreadedWSGIServer):
    """At most max_connections connections in service; the rest are refused politely."""

    request_queue_size = 1024

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
