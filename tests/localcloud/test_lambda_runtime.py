"""The local Lambda runtime, run for real (worker processes, no mocks): the interpreter it uses,
init failures, workers killed by a signal, bounded start-ups and bounded idle workers."""

import io
import json
import platform
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import interpreter, lambda_runtime
from localcloud.lambda_runtime import FunctionSpec, Invocation, Runtime

HANDLER = textwrap.dedent(
    """
    import os, platform, signal, sys, time

    if os.environ.get("INIT") == "exit":
        sys.exit(3)
    if os.environ.get("INIT") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(os.environ.get("INIT_SLEEP", "0")))
    import boto3  # the runtime's SDK, as a real handler imports it at init

    def handler(event, context):
        if event.get("kill"):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(event.get("sleep", 0))
        return {"python": platform.python_version(), "paths": sys.path[:2], "boto3": boto3.__file__}
    """
)


def zipped(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", code)
    return buffer.getvalue()


CODE = zipped(HANDLER)


def spec(name: str = "fn", timeout: int = 10, **env: str) -> FunctionSpec:
    import base64
    import hashlib

    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="fn.handler",
        runtime="python3.12",
        memory_mb=512,
        timeout_s=timeout,
        code_sha256=base64.b64encode(hashlib.sha256(CODE).digest()).decode(),
        environment=tuple(sorted(env.items())),
        log_group=f"/aws/lambda/{name}",
        reserved_concurrency=None,
    )


class Logs:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        with self._lock:
            self.lines += [line for _, line in events]


@pytest.fixture
def logs() -> Logs:
    return Logs()


@pytest.fixture
def make(tmp_path: Path, logs: Logs) -> Iterator:
    made: list[Runtime] = []

    def build(**options) -> Runtime:
        runtime = Runtime(tmp_path, logs, endpoint_url="http://127.0.0.1:9", **options)
        made.append(runtime)
        return runtime

    yield build
    for runtime in made:
        runtime.shutdown()


def call(runtime: Runtime, function: FunctionSpec, event: dict | None = None) -> Invocation:
    return runtime.invoke(function, CODE, json.dumps(event or {}), "us-east-1")


def test_functions_run_under_the_interpreter_found_with_the_runtime_sdk_after_the_code(make) -> None:
    runtime = make()
    found = interpreter.find()
    outcome = call(runtime, spec())
    assert outcome.function_error is None, outcome.payload
    result = json.loads(outcome.payload)
    assert result["python"] == found.full_version
    assert result["paths"][0].endswith(
        tuple("0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    )
    assert "/sdk-boto3-" in result["boto3"], "boto3 comes from the runtime's SDK folder, after /var/task"
    assert "site-packages" not in " ".join(result["paths"])


def test_the_sdk_folder_of_a_removed_environment_is_not_this_ones(tmp_path: Path) -> None:
    """The SDK cache is shared by every checkout: a folder of links made by another virtual
    environment (removed since: its links dangle) is never the one this environment's workers use."""
    import boto3

    stale = tmp_path / f"sdk-boto3-{boto3.__version__}"
    stale.mkdir()
    (stale / "boto3").symlink_to(tmp_path / "removed-venv" / "boto3")
    made = interpreter.sdk_dir(tmp_path)
    assert made != stale
    assert (made / "boto3").resolve() == Path(boto3.__file__).resolve().parent
    assert interpreter.sdk_dir(tmp_path) == made, "made once, then reused"


def test_this_machine_has_lambdas_python_so_the_local_lambda_uses_it() -> None:
    found = interpreter.find()
    assert (found.version, found.warning) == ("3.12", ""), found


def test_no_python_312_falls_back_to_this_one_with_a_warning(tmp_path: Path) -> None:
    found = interpreter.search({"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert found.path == sys.executable and found.found_in == "host"
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert (found.warning == "") == (host == "3.12")
    if host != "3.12":
        assert "not Lambda's python3.12" in found.warning and "uv python install 3.12" in found.warning


def test_the_fallback_warning_is_on_every_report_line(make, logs: Logs) -> None:
    host = interpreter.Interpreter(sys.executable, "3.11", "3.11.9", platform.machine(), "host", "not 3.12")
    outcome = call(make(python=host), spec())
    report = [line for line in outcome.log_lines if line.startswith("REPORT")]
    assert report and report[0].endswith("\tLocal Runtime: Python 3.11.9, not python3.12")


def test_an_init_that_exits_is_an_unhandled_runtime_exit_error(make) -> None:
    outcome = call(make(), spec(INIT="exit"))
    assert outcome.function_error == "Unhandled"
    payload = json.loads(outcome.payload)
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Runtime exited with error: exit status 3")
    lines = "\n".join(outcome.log_lines)
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ExitError" in lines
    assert "Status: error\tError Type: Runtime.ExitError" in outcome.log_lines[-1]
    assert outcome.log_lines[-1].startswith("REPORT RequestId: ")


def test_an_init_that_overruns_its_window_is_a_timeout(make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_runtime, "init_window", lambda timeout: 1.0)
    outcome = call(make(), spec(INIT_SLEEP="5"))
    assert outcome.function_error == "Unhandled" and outcome.timed_out
    assert json.loads(outcome.payload)["errorType"] == "Sandbox.Timedout"
    assert any("\tPhase: init\tStatus: timeout" in line for line in outcome.log_lines)


def test_the_start_up_window_grows_with_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_runtime.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(lambda_runtime.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    assert lambda_runtime.init_window(3) == 10.0
    monkeypatch.setattr(lambda_runtime.os, "getloadavg", lambda: (8.0, 1.0, 1.0))
    assert lambda_runtime.init_window(3) == 40.0
    assert lambda_runtime.init_window(60) == 60.0, "never less than the function's timeout"


def test_a_worker_killed_by_a_signal_is_reported_as_lambda_does(make) -> None:
    runtime = make()
    function = spec(timeout=30)
    started = time.monotonic()
    outcome = call(runtime, function, {"kill": True})
    assert time.monotonic() - started < 10, "reported at once, not after the timeout"
    assert outcome.function_error == "Unhandled" and not outcome.timed_out
    payload = json.loads(outcome.payload)
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert not any("Task timed out" in line for line in outcome.log_lines)
    assert "Status: error\tError Type: Runtime.ExitError" in outcome.log_lines[-1]
    assert call(runtime, function).function_error is None, "the next call gets a new worker"


def test_a_herd_on_a_cold_function_shares_the_few_workers_it_starts(make) -> None:
    runtime = make(max_starts=2, max_idle=32)
    function = spec(INIT_SLEEP="1")
    with_results: list[Invocation] = []

    def one() -> None:
        with_results.append(call(runtime, function, {"sleep": 0.2}))

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(with_results) == 12
    assert all(r.function_error is None for r in with_results), [r.payload for r in with_results]
    assert runtime.stats(function.arn)["starts"] < 12


def test_idle_workers_are_bounded_by_count_oldest_first(make) -> None:
    runtime = make(max_idle=2, max_idle_mb=0)
    functions = [spec(name=f"fn{i}") for i in range(4)]
    for function in functions:
        assert call(runtime, function).function_error is None
    assert runtime.stats()["idle"] == 2
    assert runtime.stats(functions[0].arn)["idle"] == 0, "the least recently used went first"
    assert runtime.stats(functions[3].arn)["idle"] == 1


def test_idle_workers_are_bounded_by_memory(make) -> None:
    probe = make(max_idle=8, max_idle_mb=0)
    assert call(probe, spec(name="probe")).function_error is None
    one = probe.stats()["idle_mb"]
    assert one > 0
    runtime = make(max_idle=8, max_idle_mb=int(one * 2.5))
    for i in range(5):
        assert call(runtime, spec(name=f"m{i}")).function_error is None
    kept = runtime.stats()
    assert kept["idle"] in (2, 3) and kept["idle_mb"] <= one * 2.5 + 5, kept
