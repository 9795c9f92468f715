"""The web console as its own process (``python -m console``): its command line, and starting it.

Both fronts start it through here: `resizer console` in the foreground (``run``) and `resizer up`
next to the local cloud (``start``, which returns once the process listening on the port is the
one it started). The process ends with its parent, even by kill -9 (localcloud.process).
"""

import contextlib
import os
import socket
import subprocess
from dataclasses import dataclass

from localcloud import contract
from operations.errors import OperationError

MODULE = "console"
TOKEN_ENV = "RESIZER_CONSOLE_TOKEN"
START_TIMEOUT_S = 30


class ConsoleDidNotStart(OperationError):
    """The console process ended, or another process listens on its port."""


@dataclass(frozen=True)
class Started:
    process: subprocess.Popen
    url: str
    token: str


def command_line(
    port: int,
    *,
    host: str = contract.LOOPBACK,
    stack: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    allow_remote: bool = False,
    new_token: bool = False,
    quiet: bool = False,
) -> list[str]:
    """The arguments of ``python -m console`` (console/__main__.py parses them)."""
    argv = ["--host", host, "--port", str(port)]
    argv += ["--allow-remote"] if allow_remote else []
    argv += ["--new-token"] if new_token else []
    argv += ["--quiet"] if quiet else []
    for flag, value in (
        ("--stack", stack),
        ("--region", region),
        ("--profile", profile),
        ("--endpoint-url", endpoint_url),
    ):
        if value:
            argv += [flag, value]
    return argv


def run(argv: list[str]) -> int:
    """Run the console until it stops; its exit code (Ctrl-C reaches it directly; it also ends
    when this process is killed, even by kill -9)."""
    from localcloud import process as processes

    process = processes.spawn(processes.child_command(MODULE, *argv))
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue  # the console got the same Ctrl-C and is shutting down


def start(endpoint_url: str, port: int, region: str, *, timeout: float = START_TIMEOUT_S) -> Started:
    """The console on 127.0.0.1:port targeting endpoint_url, in a new session (Ctrl-C reaches
    it through ``stop``); ConsoleDidNotStart if it ends, or another process holds the port."""
    from localcloud import process as processes
    from operations import console_token

    token = os.environ.get(TOKEN_ENV) or console_token.load().token  # the console reads it too
    argv = command_line(port, endpoint_url=endpoint_url, region=region, quiet=True)

    def listening(process: subprocess.Popen) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((contract.LOOPBACK, port), timeout=0.5):
            return processes.listener_pid(port) in (process.pid, None)  # None: cannot tell (not Linux)
        return False

    try:
        process = processes.started(
            processes.child_command(MODULE, *argv),
            listening,
            timeout=timeout,
            every=0.2,
            start_new_session=True,  # stopped through stop(), after the local cloud's save
        )
    except processes.DidNotStart:
        other = processes.listener_pid(port)
        raise ConsoleDidNotStart(
            f"the console did not start on port {port}"
            + (f": PID {other} listens there (a console left by an earlier run?)" if other else ""),
            f"stop it (kill {other}) or choose another port with --console-port"
            if other
            else "choose another with --console-port",
        ) from None
    return Started(process, f"http://{contract.LOOPBACK}:{port}/", token)


def stop(started: Started) -> None:
    """Stop the console (SIGTERM, SIGKILL after 10 s)."""
    from localcloud import process as processes

    processes.stop(started.process, grace=10)
