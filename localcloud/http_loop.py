"""The server's one event loop: it accepts connections, answers fast-path hits on kept-alive
connections itself, and hands every other request, unread, to a werkzeug handler thread.

Thirty-two handler threads answering hits contended for the GIL (hits' p99 was 59-64 ms at 32
clients on two cores); one loop serves ready connections in turn instead. It only *peeks*
(``MSG_PEEK``) at a connection's bytes: when they hold a whole GET/HEAD head that the fast path
answers, the head is consumed and the answer queued; anything else (a body, a head cut in two
segments, a miss, a refusal, a malformed line) stays in the socket, and the handler thread reads
it as if it had accepted the connection itself. Idle connections and stalled writers are closed
after ``read_timeout`` seconds, as a handler thread's socket timeout closes them.
"""

import contextlib
import logging
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PEEK_BYTES = 65536
SWEEP_EVERY_S = 1.0
log = logging.getLogger(__name__)
access_log = logging.getLogger("werkzeug")  # the handler threads' request lines go there too


class Fields(dict):
    """A request's header fields by lower-cased name; ``in`` and ``get`` ignore case."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)


@dataclass
class Head:
    """A parsed request head: what the fast path is asked with."""

    method: str
    target: str
    version: str
    fields: Fields

    @property
    def close(self) -> bool:
        """Whether the connection closes after the answer (BaseHTTPRequestHandler's rule)."""
        wanted = self.fields.get("connection", "").lower()
        if wanted == "close":
            return True
        return self.version == "HTTP/1.0" and wanted != "keep-alive"


def parse_head(raw: bytes) -> Head | None:
    """The head of a GET or HEAD (bytes before the blank line); None for anything werkzeug should
    judge itself (another method or version, an absolute or ``//`` target, a folded, repeated or
    malformed field)."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if method not in ("GET", "HEAD") or version not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None  # http.server rewrites a leading '//'; the full path does that
    fields = Fields()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or not name.isascii():
            return None
        key = name.lower()
        if dict.__contains__(fields, key):
            return None
        dict.__setitem__(fields, key, value.strip(" \t"))
    return Head(method, target, version, fields)


@dataclass(eq=False)
class Connection:
    """A connection the loop holds: its socket, peer, last activity and unsent bytes."""

    sock: socket.socket
    address: Any
    last: float = field(default_factory=time.monotonic)
    pending: memoryview | None = None
    close_after: bool = False


Answerer = Callable[[Head], tuple[bytes, int, int] | None]  # head -> (bytes to send, status, length)


class Loop:
    """Accepts on ``listener``; ``answer`` may answer a head; ``hand_off`` takes any other
    connection (blocking again, its bytes unread); ``admit`` says whether a new connection may
    be served (else ``refuse`` closes it) and ``release`` frees its place when the loop closes it."""

    def __init__(
        self,
        listener: socket.socket,
        *,
        answer: Answerer,
        hand_off: Callable[[socket.socket, Any], None],
        admit: Callable[[], bool],
        refuse: Callable[[socket.socket], None],
        release: Callable[[], None],
        read_timeout: float,
    ) -> None:
        self.listener = listener
        self.answer, self.hand_off = answer, hand_off
        self.admit, self.refuse, self.release = admit, refuse, release
        self.read_timeout = read_timeout
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S

    def run_once(self, timeout: float) -> None:
        """Serve what is ready within timeout seconds, then close connections idle too long."""
        for key, events in self.selector.select(timeout):
            connection = key.data
            try:
                if connection is None:
                    self._accept()
                elif events & selectors.EVENT_WRITE:
                    self._flush(connection)
                else:
                    self._read(connection)
            except Exception:  # one connection's failure never stops the loop for the others
                log.exception("event loop: unexpected error on %s", connection or "the listener")
                if connection is not None:
                    self._drop(connection)
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            self._sweep(now)

    def close(self) -> None:
        """Close every connection the loop still holds."""
        for key in list(self.selector.get_map().values()):
            if key.data is not None:
                self._drop(key.data)
        self.selector.close()

    def _accept(self) -> None:
        try:
            sock, address = self.listener.accept()
        except OSError:
            return
        if not self.admit():
            self.refuse(sock)
            _close(sock)
            return
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, Connection(sock, address))

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(PEEK_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            self._drop(connection)
            return
        if not data:
            self._drop(connection)  # the client closed it
            return
        connection.last = time.monotonic()
        end = data.find(b"\r\n\r\n")
        head = parse_head(data[:end]) if end > 0 else None
        answered = None
        if head is not None:
            try:
                answered = self.answer(head)
            except Exception:  # the handler thread's full path answers it, in the AWS shape
                log.debug("fast path failed on %s %s", head.method, head.target, exc_info=True)
        if answered is None:
            self._give_away(connection)
            return
        payload, status, length = answered
        try:
            connection.sock.recv(end + 4)  # exactly the head peeked: it is in the socket's buffer
        except OSError:
            self._drop(connection)
            return
        connection.close_after = head.close
        _log_request(connection.address, head, status, length)
        self._send(connection, memoryview(payload))

    def _send(self, connection: Connection, view: memoryview) -> None:
        try:
            sent = connection.sock.send(view)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(connection)
            return
        connection.last = time.monotonic()
        if sent < len(view):
            if connection.pending is None:
                self.selector.modify(connection.sock, selectors.EVENT_WRITE, connection)
            connection.pending = view[sent:]
            return
        if connection.pending is not None:
            connection.pending = None
            self.selector.modify(connection.sock, selectors.EVENT_READ, connection)
        if connection.close_after:
            self._drop(connection)

    def _flush(self, connection: Connection) -> None:
        if connection.pending is not None:
            self._send(connection, connection.pending)

    def _give_away(self, connection: Connection) -> None:
        self.selector.unregister(connection.sock)
        try:
            connection.sock.setblocking(True)
            self.hand_off(connection.sock, connection.address)
        except Exception:
            log.exception("could not hand a connection to a handler thread")
            _close(connection.sock)
            self.release()

    def _sweep(self, now: float) -> None:
        for key in list(self.selector.get_map().values()):
            connection = key.data
            if connection is not None and now - connection.last > self.read_timeout:
                self._drop(connection)

    def _drop(self, connection: Connection) -> None:
        try:
            self.selector.unregister(connection.sock)
        except (KeyError, ValueError):
            return  # already dropped
        _close(connection.sock)
        self.release()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    sock.close()


def _log_request(address: Any, head: Head, status: int, length: int) -> None:
    """The request line werkzeug's handler logs for the same request (at INFO, when verbose)."""
    if access_log.isEnabledFor(logging.INFO):
        when = time.strftime("%d/%b/%Y %H:%M:%S")
        client = address[0] if isinstance(address, tuple) else str(address)
        access_log.info(
            '%s - - [%s] "%s %s %s" %s %s',
            client,
            when,
            head.method,
            head.target,
            head.version,
            status,
            length,
        )
