"""The local cloud as a separate process, for tests and benchmarks that need a real server.

``running`` starts ``python -m localcloud.server`` on a loopback port, waits until its health
path answers, yields its URL, and stops it with SIGTERM (so it saves its state, as Ctrl-C does).
"""

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(
    data_dir: Path, port: int | None = None, *, log: Path | None = None, timeout: float = 60.0
) -> Iterator[str]:
    """A local-cloud server process with its state in data_dir; RuntimeError if it does not start."""
    from operations.aws import probe_local_cloud

    port = port or free_port()
    with log.open("wb") if log else contextlib.nullcontext(subprocess.DEVNULL) as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localcloud.server", "--port", str(port), "--data", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not probe_local_cloud(url, timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                said = log.read_text(errors="replace")[-2000:] if log else ""
                raise RuntimeError(f"the local cloud did not start on {url}\n{said}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
