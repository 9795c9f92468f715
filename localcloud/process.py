"""The local cloud's processes: started as children that die with their parent, and found by port.

``started`` spawns a process and waits until it is ready (the one spawn-and-wait of the project:
the local cloud, the console, the tests' servers); ``stop`` ends one with SIGTERM, then SIGKILL.
``running`` starts ``python -m localcloud.server`` on a loopback port, waits until its health
path answers, yields its URL, and stops it with SIGTERM (so it saves its state, as Ctrl-C does).
``child_command`` wraps ``python -m MODULE`` so that the child ends when its parent ends, even by
``kill -9`` (``python -m localcloud.process PARENT_PID MODULE ARGS...``); ``spawn`` starts
processes from one long-lived thread, because Linux's parent-death signal fires when the thread
that started a child ends, not the process. ``listener_pid`` says which process listens on a port.
"""

import contextlib
import os
import queue
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from localcloud import contract
from localcloud.lambda_worker import die_with_parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((contract.LOOPBACK, 0))
        return s.getsockname()[1]


def child_command(module: str, *args: str) -> list[str]:
    """The argv of ``python -m module args`` that ends (SIGTERM) when this process ends."""
    return [sys.executable, "-m", "localcloud.process", str(os.getpid()), module, *args]


_requests: "queue.Queue[tuple[Future, tuple, dict]]" = queue.Queue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def spawn(*args: Any, **kwargs: Any) -> subprocess.Popen:
    """subprocess.Popen(*args, **kwargs), run by a thread that lives as long as this process."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawn_forever, name="localcloud-spawner", daemon=True)
            _spawner.start()
    done: Future = Future()
    _requests.put((done, args, kwargs))
    return done.result()


def _spawn_forever() -> None:
    while True:
        done, args, kwargs = _requests.get()
        try:
            done.set_result(subprocess.Popen(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)


def listener_pid(port: int, host: str = "127.0.0.1") -> int | None:
    """The PID of the process listening on host:port (Linux /proc; None if unknown or none)."""
    inodes = set()
    wanted = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and (local == wanted or (local.endswith(f":{port:04X}") and _any(local))):
                    inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return int(pid)
    return None


def _any(local: str) -> bool:
    address = local.split(":")[0]
    return set(address) == {"0"}  # 0.0.0.0 or :: also answers on loopback


class DidNotStart(RuntimeError):
    """A process ended, or was not ready in time, after ``started`` spawned it (it is stopped)."""

    def __init__(self, process: subprocess.Popen, waited: float) -> None:
        code = process.poll()
        ended = code is not None and code >= 0
        super().__init__(f"exited with {code}" if ended else f"not ready after {waited:g} s")
        self.process = process


def started(
    argv: list[str],
    ready: Callable[[subprocess.Popen], bool],
    *,
    timeout: float,
    every: float = 0.1,
    **popen: Any,
) -> subprocess.Popen:
    """``spawn(argv, **popen)``, returned once ``ready(process)`` is true (asked every ``every`` s);
    DidNotStart if it ends or is not ready within ``timeout`` s (it is stopped then)."""
    process = spawn(argv, **popen)
    deadline = time.monotonic() + timeout
    while not ready(process):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process, grace=10)
            raise DidNotStart(process, timeout)
        time.sleep(every)
    return process


def stop(process: subprocess.Popen, grace: float = 60.0) -> None:
    """SIGTERM (a local cloud saves its state), then SIGKILL if it is still running after grace s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(
    data_dir: Path, port: int | None = None, *, log: Path | None = None, timeout: float = 60.0
) -> Iterator[str]:
    """A local-cloud server process with its state in data_dir; RuntimeError if it does not start."""
    port = port or free_port()
    url = contract.endpoint(port)
    argv = child_command(contract.SERVER_MODULE, *contract.server_args(port, data_dir))
    with log.open("wb") if log else contextlib.nullcontext(subprocess.DEVNULL) as out:
        try:
            process = started(
                argv,
                lambda _: bool(contract.health(url, timeout=0.5)),
                timeout=timeout,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except DidNotStart:
            said = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"the local cloud did not start on {url}\n{said}") from None
    try:
        yield url
    finally:
        stop(process)


def main(argv: list[str]) -> None:
    """``python -m localcloud.process PARENT_PID MODULE ARGS...``: run MODULE as __main__, ending
    with SIGTERM (so it stops cleanly) when PARENT_PID ends."""
    parent, module, *args = argv
    die_with_parent(int(parent), signal.SIGTERM)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
