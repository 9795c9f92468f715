"""`resizer console` and console.app.serve: a real uvicorn on a loopback port."""

import os
import signal
import socket
import subprocess
import urllib.request

import pytest
from typer.testing import CliRunner

from cli.app import app as cli_app
from console.__main__ import loopback
from console.__main__ import main as console_main
from console.app import ConsoleSettings, bind


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_console_process_serves_until_stopped(monkeypatch, tmp_path) -> None:
    """What `resizer up` runs: `python -m console` through the one launcher, ready once it listens."""
    from operations import console_process

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESIZER_CONSOLE_TOKEN", "t")
    started = console_process.start("http://127.0.0.1:9", free_port(), "us-east-1")
    try:
        assert started.token == "t"
        with urllib.request.urlopen(f"{started.url}login", timeout=5) as reply:
            assert reply.status == 200 and "Log in" in reply.read().decode()
            assert reply.headers["X-Frame-Options"] == "DENY" and "server" not in reply.headers
    finally:
        console_process.stop(started)
    # uvicorn shuts down, then re-raises the SIGTERM it caught: not the SIGKILL after 10 s
    assert started.process.returncode in (0, -signal.SIGTERM), started.process.returncode
    assert not (tmp_path / ".resizer/console/login.json").exists(), "the token came from the environment"


TARGET = ["--stack", "s", "--region", "r", "--profile", "p"]


def test_the_console_argv_is_built_once() -> None:
    from operations.console_process import command_line

    assert command_line(8099) == ["--host", "127.0.0.1", "--port", "8099"]
    assert command_line(
        1, host="0.0.0.0", allow_remote=True, new_token=True, quiet=True, stack="s", region="r", profile="p"
    ) == ["--host", "0.0.0.0", "--port", "1", "--allow-remote", "--new-token", "--quiet", *TARGET]
    assert command_line(2, endpoint_url="http://127.0.0.1:4566")[-2:] == [
        "--endpoint-url",
        "http://127.0.0.1:4566",
    ]


def test_a_busy_port_is_an_operation_error() -> None:
    from operations.errors import OperationError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OperationError, match="cannot listen"):
            bind("127.0.0.1", taken.getsockname()[1])


def test_loopback() -> None:
    assert loopback("127.0.0.1") and loopback("localhost") and loopback("::1") and loopback("127.1.2.3")
    assert not loopback("0.0.0.0") and not loopback("192.168.1.10") and not loopback("example.com")


def test_the_console_refuses_a_remote_host_without_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("RESIZER_CONSOLE_TOKEN", raising=False)
    assert console_main(["--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err
    assert console_main(["--host", "0.0.0.0", "--allow-remote"]) == 2
    assert "RESIZER_CONSOLE_TOKEN" in capsys.readouterr().err


def test_the_console_prints_the_url_and_the_token_then_serves(monkeypatch, capsys, tmp_path) -> None:
    import console.app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESIZER_CONSOLE_TOKEN", raising=False)
    served = []
    monkeypatch.setattr(console.app, "serve", lambda settings, **kw: served.append(settings))
    assert console_main(["--port", "8099", "--stack", "photos"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8099/" in out
    assert served and served[0].token in out and served[0].stack == "photos"


def test_the_command_starts_the_console_process_with_its_options(monkeypatch, tmp_path) -> None:
    from operations import console_process as command

    monkeypatch.chdir(tmp_path)
    launched = []
    monkeypatch.setattr(command, "run", lambda argv: launched.append(argv) or 0)
    result = CliRunner().invoke(cli_app, ["console", "--port", "8099", "--stack", "photos"])
    assert result.exit_code == 0, result.output
    assert launched == [["--host", "127.0.0.1", "--port", "8099", "--stack", "photos"]]
    monkeypatch.setattr(command, "run", lambda argv: 2)
    assert CliRunner().invoke(cli_app, ["console", "--host", "0.0.0.0"]).exit_code == 2
    help_text = CliRunner().invoke(cli_app, ["--help"]).output
    assert "Console" in help_text and "console" in help_text


def test_cli_never_imports_console() -> None:
    import subprocess
    import sys

    code = "import sys, cli.app; print(any(m == 'console' or m.startswith('console.') for m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_the_command_honours_resizer_console_port(monkeypatch, tmp_path) -> None:
    from operations import console_process as command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESIZER_CONSOLE_PORT", "8123")
    launched = []
    monkeypatch.setattr(command, "run", lambda argv: launched.append(argv) or 0)
    assert CliRunner().invoke(cli_app, ["console"]).exit_code == 0
    assert CliRunner().invoke(cli_app, ["console", "--port", "8124", "--new-token"]).exit_code == 0
    assert launched == [
        ["--host", "127.0.0.1", "--port", "8123"],
        ["--host", "127.0.0.1", "--port", "8124", "--new-token"],
    ]


def test_the_token_survives_a_restart_in_a_file_only_its_owner_reads(monkeypatch, capsys, tmp_path) -> None:
    import stat

    import console.app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESIZER_CONSOLE_TOKEN", raising=False)
    served = []
    monkeypatch.setattr(console.app, "serve", lambda settings, **kw: served.append(settings))
    assert console_main(["--port", "8099"]) == 0
    assert console_main(["--port", "8099"]) == 0
    first, second = served
    assert first.token == second.token and first.secret == second.secret, "same token, sessions kept"
    stored = tmp_path / ".resizer/console/login.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert console_main(["--port", "8099", "--new-token"]) == 0
    assert served[2].token != first.token and served[2].secret != first.secret, "rotated"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert out.count(served[2].token) == 1 and out.count(first.token) == 2, "printed by the console only"


def test_up_prints_the_stored_token_and_the_console_uses_it(monkeypatch, tmp_path) -> None:
    from cli.commands import up
    from operations import console_token

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESIZER_CONSOLE_TOKEN", raising=False)
    started = []

    class Process:
        def __init__(self, argv, **kwargs):
            started.append(kwargs.get("env", os.environ))

        def poll(self):
            return 1

        def terminate(self):
            pass

    monkeypatch.setattr(subprocess, "Popen", Process)
    assert not (tmp_path / ".resizer/console/login.json").exists()
    up.start_console("http://127.0.0.1:1", free_port())
    assert "RESIZER_CONSOLE_TOKEN" not in started[0], "the console reads the stored token itself"
    stored = console_token.load().token
    assert (tmp_path / ".resizer/console/login.json").exists() and console_token.load().token == stored


def test_a_logout_stays_a_logout_after_a_restart(tmp_path) -> None:
    from console import state

    settings = ConsoleSettings(token="t", secret=b"s" * 32, cwd=tmp_path, login_dir=tmp_path / "login")
    sessions = state.build(settings).sessions
    session, cookie = sessions.new()
    assert sessions.read(cookie) is not None
    sessions.revoke(session)
    restarted = state.build(settings).sessions
    assert restarted.read(cookie) is None
    other = restarted.new()[1]
    assert state.build(settings).sessions.read(other) is not None, "other sessions survive the restart"
