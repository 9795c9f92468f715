"""The server's event loop (localcloud.http_loop): hits answered in the loop's thread on kept-alive
connections, everything else handed unread to a handler thread, idle connections closed."""

import socket
import threading
import time
import weakref

import pytest

from localcloud import http_loop, http_server

BIG = bytes(range(256)) * 80_000  # 20 MB: more than loopback socket buffers take at once


def app(environ, start_response):
    """The full path: echoes the method, the path and the body it read."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    echoed = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} ".encode() + body
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("X-Path", "full"), ("Content-Length", str(len(echoed)))]
    )
    return [echoed]


class Fast:
    """Answers /hit/* (and /big), records the thread each answer was made in."""

    def __init__(self) -> None:
        self.threads: set[str] = set()

    def __call__(self, method, target, headers):
        if target == "/boom":
            raise RuntimeError("a fast path bug")
        if not target.startswith(("/hit/", "/big")):
            return None
        self.threads.add(threading.current_thread().name)
        body = BIG if target == "/big" else target.encode()
        seen = headers.get("X-Probe", "-")
        return (
            200,
            [("Content-Type", "text/plain"), ("X-Probe", seen)],
            b"" if method == "HEAD" else body,
            len(body),
        )


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(http_server, "READ_TIMEOUT_S", 1.0)
    built = http_server.BoundedServer("127.0.0.1", 0, app, max_connections=4)
    built.fast = Fast()
    thread = threading.Thread(target=built.serve_forever, kwargs={"poll_interval": 0.05}, name="loop")
    thread.start()
    yield built
    built.shutdown()
    thread.join(5)
    assert not thread.is_alive()


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_port), timeout=5)


_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def answer(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """The next HTTP answer on sock: status line, fields (lower-cased), body (buffered per socket,
    so pipelined answers are read one by one)."""
    reader = _readers.get(sock)
    if reader is None:
        reader = _readers[sock] = sock.makefile("rb")
    lines = []
    while (line := reader.readline()) not in (b"\r\n", b""):
        lines.append(line.decode("latin-1").rstrip("\r\n"))
    assert lines, "closed before an answer"
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    body = reader.read(int(fields.get("content-length", "0")))
    return lines[0].encode(), fields, body


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def test_hits_on_one_kept_alive_connection_are_answered_in_the_loop_thread(server):
    with connect(server) as sock:
        for index in range(50):
            sock.sendall(get(f"/hit/{index}", "x-PROBE: case\r\n"))
            status, fields, body = answer(sock)
            assert status == b"HTTP/1.1 200 OK" and body == f"/hit/{index}".encode()
            assert fields["x-probe"] == "case", "header names are matched without case"
            assert fields["content-length"] == str(len(body)) and "connection" not in fields
    assert server.fast.threads == {"loop"}, "no hit waited for a handler thread"


def test_other_requests_are_handed_unread_to_the_full_path(server):
    with connect(server) as sock:
        sock.sendall(b"PUT /thing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
        status, fields, body = answer(sock)
    assert status == b"HTTP/1.1 200 OK" and fields["x-path"] == "full" and body == b"PUT /thing hello"
    for request in (get("/miss"), get("/boom")):
        with connect(server) as sock:
            sock.sendall(request)
            status, fields, _ = answer(sock)
        assert fields.get("x-path") == "full", request
    with connect(server) as sock:  # http.server rewrites '//' first; the thread's fast path answers
        sock.sendall(get("//hit/x"))
        assert answer(sock)[2] == b"/hit/x"
    assert server.fast.threads and "loop" not in server.fast.threads


def test_a_head_in_two_segments_and_pipelined_requests_are_all_answered(server):
    with connect(server) as sock:
        sock.sendall(b"GET /hit/a HTTP/1.1\r\nHo")
        time.sleep(0.2)
        sock.sendall(b"st: 127.0.0.1\r\n\r\n")
        assert answer(sock)[2] == b"/hit/a"
    with connect(server) as sock:
        sock.sendall(get("/hit/1") + get("/hit/2") + get("/hit/3"))
        assert [answer(sock)[2] for _ in range(3)] == [b"/hit/1", b"/hit/2", b"/hit/3"]


def test_a_slow_reader_of_a_large_body_does_not_stop_other_hits(server):
    slow = connect(server)
    slow.sendall(get("/big"))
    time.sleep(0.3)  # unread: the loop has sent what the buffers take and waits to write the rest
    started = time.monotonic()
    with connect(server) as other:
        other.sendall(get("/hit/meanwhile"))
        assert answer(other)[2] == b"/hit/meanwhile"
    assert time.monotonic() - started < 0.5
    _, _, body = answer(slow)
    slow.close()
    assert body == BIG


def test_connection_close_and_http_1_0_are_honoured(server):
    with connect(server) as sock:
        sock.sendall(get("/hit/x", "Connection: close\r\n"))
        _, fields, _ = answer(sock)
        assert fields["connection"] == "close" and sock.recv(10) == b""
    with connect(server) as sock:
        sock.sendall(b"GET /hit/y HTTP/1.0\r\n\r\n")
        answer(sock)
        assert sock.recv(10) == b""


def test_idle_connections_are_closed_after_the_read_timeout_and_free_their_place(server):
    idle = [connect(server) for _ in range(4)]
    time.sleep(0.2)
    with connect(server) as refused:
        status, _, body = answer(refused)
    assert status.startswith(b"HTTP/1.1 503") and b"SlowDown" in body
    time.sleep(2.5)  # read timeout 1 s, swept each second
    for sock in idle:
        assert sock.recv(10) == b""
        sock.close()
    with connect(server) as sock:
        sock.sendall(get("/hit/after"))
        assert answer(sock)[2] == b"/hit/after"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"GET /a HTTP/1.1\r\nHost: h", ("GET", "/a", "HTTP/1.1", {"host": "h"})),
        (b"HEAD /a?b HTTP/1.0\r\nA:  x \r\nB:", ("HEAD", "/a?b", "HTTP/1.0", {"a": "x", "b": ""})),
        (b"POST /a HTTP/1.1\r\nHost: h", None),
        (b"GET http://h/a HTTP/1.1", None),
        (b"GET /a HTTP/2.0", None),
        (b"GET /a  HTTP/1.1", None),
        (b"GET /a HTTP/1.1\r\nHost: h\r\nhost: i", None),
        (b"GET /a HTTP/1.1\r\nHost : h", None),
        (b"GET /a HTTP/1.1\r\nNoColon", None),
    ],
)
def test_heads_are_parsed_or_left_to_werkzeug(raw, expected):
    head = http_loop.parse_head(raw)
    if expected is None:
        assert head is None
    else:
        assert (head.method, head.target, head.version, dict(head.fields)) == expected


def test_shutdown_without_serving_returns_at_once():
    built = http_server.BoundedServer("127.0.0.1", 0, app)
    started = time.monotonic()
    built.shutdown()
    built.server_close()
    assert time.monotonic() - started < 1


def test_an_unexpected_error_on_one_connection_leaves_the_loop_serving(server, monkeypatch):
    parse = http_loop.parse_head

    def parse_or_fail(raw):
        if b"/hit/broken" in raw:
            raise KeyError("a bug in the loop")
        return parse(raw)

    monkeypatch.setattr(http_loop, "parse_head", parse_or_fail)
    with connect(server) as sock:
        sock.sendall(get("/hit/broken"))
        assert sock.recv(10) == b"", "the failing connection is closed"
    with connect(server) as sock:
        sock.sendall(get("/hit/x"))
        assert answer(sock)[2] == b"/hit/x"
