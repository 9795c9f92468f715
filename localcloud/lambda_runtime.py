"""Real Lambda execution for the local cloud, without Docker.

Each function gets a pool of warm workers (``localcloud.lambda_worker`` child processes) that
import the deployed zip's handler once and serve invocations one at a time, like warm Lambda
containers. A change of code or configuration retires the pool, so the next call is a cold start.
The function's timeout is enforced by killing the worker ("Task timed out after N seconds");
reserved concurrency (or the local account limit) caps busy workers, and calls beyond it are
throttled. START / END / REPORT lines and everything the handler prints go to the function's log
group, one stream per worker, as on AWS.

Workers run under Lambda's Python when the machine has one (localcloud.interpreter), with no
site-packages but the runtime's bundled SDK, and die with the local cloud. A worker that fails to
start is reported as Lambda reports an init failure (an INIT_REPORT line, a function error, so
API Gateway answers 502); one killed by a signal as "Runtime exited with error: signal: killed".
Start-ups are bounded (``max_starts`` at once, the others wait for a start or a free worker) and
their wait grows with the machine's load; idle workers are bounded by count and memory, the
least recently used stopped first.
"""

import base64
import contextlib
import json
import math
import os
import select
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LogWriter = Callable[[str, str, list[tuple[int, str]]], None]  # (group, stream, [(ms, line)])
TAIL_BYTES = 4096
INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit; here the least a start-up may take (see init_window)
IDLE_SECONDS = 900.0  # a warm worker unused this long is stopped, as Lambda reclaims idle sandboxes
MAX_IDLE_ENV, MAX_IDLE_MB_ENV = "RESIZER_LAMBDA_IDLE_WORKERS", "RESIZER_LAMBDA_IDLE_MB"
MAX_IDLE, MAX_IDLE_MB = 8, 1024  # defaults: idle workers kept at most, and their total RSS
WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
# Go's names, as the Lambda runtime (written in Go) reports a runtime killed by a signal.
SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
}


class Throttled(Exception):
    """No capacity left under the function's reserved concurrency (or the account limit)."""


class WorkerDied(Exception):
    """The worker process ended (``exited``) or timed out during an invocation or its start-up."""

    def __init__(self, message: str, exited: bool = False) -> None:
        super().__init__(message)
        self.exited = exited


class InitFailed(Exception):
    """A worker could not start: it exited (``exit_reason``) or overran its start-up window."""

    def __init__(self, init_ms: float, logs: list[str], exit_reason: str = "", waited_s: float = 0) -> None:
        super().__init__(exit_reason or "timed out")
        self.init_ms, self.logs, self.exit_reason, self.waited_s = init_ms, logs, exit_reason, waited_s


def exit_reason(returncode: int | None) -> str:
    """How Lambda's runtime says a process ended: 'signal: killed', 'exit status 1'."""
    if returncode is None:
        return "unknown"
    if returncode < 0:
        return f"signal: {SIGNAL_NAMES.get(-returncode, f'signal {-returncode}')}"
    return f"exit status {returncode}"


def init_window(timeout_s: float) -> float:
    """How long a start-up may take: Lambda's 10 s init limit stretched by the machine's load
    (runnable processes per core), and never less than the function's timeout (Lambda re-runs a
    slow init inside the invocation, under the function's timeout)."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        load = 1.0
    return max(float(timeout_s), INIT_TIMEOUT_S * max(1.0, load))


def stamp_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Invocation:
    """The outcome of one invocation, as Lambda reports it."""

    request_id: str
    payload: bytes
    function_error: str | None
    log_lines: list[str]
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None
    timed_out: bool = False

    @property
    def log_tail(self) -> str:
        """The last 4 KB of this request's log, base64 as in X-Amz-Log-Result."""
        text = "\n".join(self.log_lines) + "\n"
        return base64.b64encode(text.encode()[-TAIL_BYTES:]).decode()


@dataclass(frozen=True)
class FunctionSpec:
    """What a worker needs to know about a function; a new spec means a cold start."""

    name: str
    arn: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    code_sha256: str
    environment: tuple[tuple[str, str], ...]
    log_group: str
    reserved_concurrency: int | None

    @property
    def fingerprint(self) -> tuple:
        return (
            self.code_sha256,
            self.handler,
            self.runtime,
            self.memory_mb,
            self.timeout_s,
            self.environment,
        )


class Worker:
    """One warm execution environment."""

    def __init__(
        self,
        spec: FunctionSpec,
        code_dir: Path,
        env: dict[str, str],
        log: LogWriter,
        *,
        python: str = sys.executable,
        sdk_dir: Path | None = None,
        pycache: Path | None = None,
        note: str = "",
        init_timeout: float | None = None,
    ) -> None:
        from localcloud import process

        self.spec = spec
        self.log = log
        self.note = note  # appended to REPORT lines (the local runtime's deviation from Lambda)
        self.stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = {**env, "AWS_LAMBDA_LOG_STREAM_NAME": self.stream}
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        launched = time.perf_counter()  # Init Duration counts the runtime's start-up, as on AWS
        # -S: no site-packages but the SDK folder; -P: not this folder either; bytecode goes to a
        # cache outside the code (Lambda's runtime has its SDK compiled; the first worker compiles it).
        cache = ["-X", f"pycache_prefix={pycache}"] if pycache else ["-B"]
        argv = [
            python,
            "-S",
            "-P",
            *cache,
            str(WORKER_SCRIPT),
            str(child_in),
            str(child_out),
            str(os.getpid()),
        ]
        self.process = process.spawn(
            [*argv, str(sdk_dir or "")],
            cwd=code_dir,
            env=env,
            pass_fds=(child_in, child_out),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        os.close(child_in)
        os.close(child_out)
        self.last_used = time.monotonic()
        self.stray: list[tuple[int, str]] = []
        self._started = False
        self._stray_reader = threading.Thread(target=self._stray_output, daemon=True)
        self._stray_reader.start()
        window = init_timeout if init_timeout is not None else init_window(spec.timeout_s)
        try:
            ready = self._receive(time.monotonic() + window)
        except WorkerDied as died:
            init_ms = (time.perf_counter() - launched) * 1000
            self.stop()
            self._stray_reader.join(timeout=1)
            reason = exit_reason(self.process.returncode) if died.exited else ""
            raise InitFailed(init_ms, [line for _, line in self.stray], reason) from None
        self.init_ms: float | None = (time.perf_counter() - launched) * 1000
        self.init_logs = [line for _, line in self.stray + ready["logs"]]
        self._started = True

    def invoke(self, request_id: str, event: str) -> Invocation:
        deadline_wall = time.time() + self.spec.timeout_s
        message = json.dumps({"request_id": request_id, "event": event, "deadline_ms": deadline_wall * 1000})
        data = message.encode()
        started = time.perf_counter()
        os.write(self._to_child, len(data).to_bytes(4, "big") + data)
        began = _now_ms()
        lines = [(began, f"START RequestId: {request_id} Version: $LATEST")]
        init_ms, self.init_ms = self.init_ms, None
        if init_ms is not None:
            runtime = self.spec.runtime.replace("python", "python:")
            init = [(began, f"INIT_START Runtime Version: {runtime} (localcloud)")]
            lines = init + [(began, line) for line in self.init_logs] + lines
        try:
            result = self._receive(time.monotonic() + self.spec.timeout_s)
        except WorkerDied as died:
            elapsed = (time.perf_counter() - started) * 1000
            self.stop()
            now = _now_ms()
            if died.exited:  # killed by a signal or exited mid-call: Lambda's runtime says how
                how = exit_reason(self.process.returncode)
                reason = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
                lines += [(now, f"{reason}\nRuntime.ExitError"), (now, f"END RequestId: {request_id}")]
                extra = "\tStatus: error\tError Type: Runtime.ExitError"
                lines.append((now, self._report(request_id, elapsed, 0, init_ms, extra)))
                self._write_log(lines)
                payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": reason}).encode()
                return self._outcome(request_id, payload, "Unhandled", lines, elapsed, 0, init_ms)
            stamp = stamp_now()
            message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
            lines += [(now, f"{stamp} {request_id} {message}"), (now, f"END RequestId: {request_id}")]
            lines.append((now, self._report(request_id, elapsed, 0, init_ms, "\tStatus: timeout")))
            self._write_log(lines)
            payload = json.dumps(
                {"errorMessage": f"{stamp} {request_id} {message}", "errorType": "Sandbox.Timedout"}
            )
            return self._outcome(request_id, payload.encode(), "Unhandled", lines, elapsed, 0, init_ms, True)
        self.last_used = time.monotonic()
        lines += [(max(began, stamp), line) for stamp, line in result["logs"]]  # when the handler wrote it
        now = max(_now_ms(), lines[-1][0])
        payload, error, extra = result["payload"].encode(), "Unhandled" if result["error"] else None, ""
        if result["max_memory_mb"] > self.spec.memory_mb:
            # Lambda kills a sandbox that outgrows its memory; the worker is measured after the
            # call, so it is stopped now and the call reported as AWS reports it.
            self.stop()
            killed = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
            lines.append((now, f"{killed}\nRuntime.OutOfMemory"))
            payload = json.dumps({"errorType": "Runtime.OutOfMemory", "errorMessage": killed}).encode()
            error, extra = "Unhandled", "\tStatus: error\tError Type: Runtime.OutOfMemory"
        lines.append((now, f"END RequestId: {request_id}"))
        lines.append(
            (now, self._report(request_id, result["duration_ms"], result["max_memory_mb"], init_ms, extra))
        )
        self._write_log(lines)
        return self._outcome(
            request_id, payload, error, lines, result["duration_ms"], result["max_memory_mb"], init_ms
        )

    def _outcome(self, request_id, payload, error, lines, duration, max_memory, init_ms, timed_out=False):
        return Invocation(
            request_id,
            payload,
            error,
            [line for _, line in lines],
            duration,
            max(1, math.ceil(duration)),
            self.spec.memory_mb,
            max_memory,
            init_ms,
            timed_out,
        )

    def _report(
        self, request_id: str, duration: float, max_memory: int, init_ms: float | None, extra=""
    ) -> str:
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(duration))} ms\tMemory Size: {self.spec.memory_mb} MB\t"
            f"Max Memory Used: {max_memory} MB\t"
        )
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        return report + extra + (f"\tLocal Runtime: {self.note}" if self.note else "")

    def _write_log(self, lines: list[tuple[int, str]]) -> None:
        self.log(self.spec.log_group, self.stream, lines)

    def _receive(self, deadline: float) -> dict:
        header = self._read(4, deadline)
        return json.loads(self._read(int.from_bytes(header, "big"), deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_child], [], [], remaining)[0]:
                raise WorkerDied("timed out")
            chunk = os.read(self._from_child, size - len(data))
            if not chunk:
                self.process.wait()
                raise WorkerDied(f"exited with {self.process.returncode}", exited=True)
            data += chunk
        return data

    def _stray_output(self) -> None:
        """Bytes written straight to the process's stdout/stderr (C extensions, crashes) are logged."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self._started:
                self.log(self.spec.log_group, self.stream, [(int(time.time() * 1000), line)])
            elif len(self.stray) < 200:  # during start-up: logged with the INIT lines
                self.stray.append((int(time.time() * 1000), line))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        """The worker's resident memory now (0 when unknown)."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return 0.0

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Pool:
    """The warm workers of one function version (one fingerprint)."""

    spec: FunctionSpec
    idle: list[Worker] = field(default_factory=list)
    busy: int = 0
    starts: int = 0


def _setting(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


class Runtime:
    """All functions' pools; thread-safe; ``invoke`` is what the patched moto calls."""

    def __init__(
        self,
        data_dir: Path,
        log: LogWriter,
        *,
        endpoint_url: str,
        account_limit: int = 32,
        on_invoked: Callable[[FunctionSpec, Invocation | None], None] | None = None,
        max_idle: int | None = None,
        max_idle_mb: int | None = None,
        max_starts: int | None = None,
        python: Any = None,
    ) -> None:
        self.data_dir = data_dir
        self.log = log
        self.endpoint_url = endpoint_url
        self.account_limit = account_limit
        self.on_invoked = on_invoked
        self.max_idle = max_idle if max_idle is not None else _setting(MAX_IDLE_ENV, MAX_IDLE)
        self.max_idle_mb = max_idle_mb if max_idle_mb is not None else _setting(MAX_IDLE_MB_ENV, MAX_IDLE_MB)
        self.max_starts = max_starts or max(2, os.cpu_count() or 2)
        self._python = python  # a localcloud.interpreter.Interpreter; found at the first start
        self._pools: dict[str, Pool] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a worker became idle, or a start ended
        self._starting = 0
        self._closed = threading.Event()
        self._prepare_lock = threading.Lock()
        self._prepared: tuple[Path | None, Path | None] | None = None
        threading.Thread(target=self._reaper, name="lambda-reaper", daemon=True).start()
        threading.Thread(target=self._runtime_files, name="lambda-prepare", daemon=True).start()

    @property
    def python(self) -> Any:
        if self._python is None:
            from localcloud import interpreter

            self._python = interpreter.find()
        return self._python

    def invoke(self, spec: FunctionSpec, code: bytes, event: str, region: str) -> Invocation:
        """Run one invocation; Throttled when the function is at its concurrency limit."""
        request_id = str(uuid.uuid4())
        try:
            worker = self._acquire(spec, code, region)
        except InitFailed as failed:
            outcome = self._init_failure(spec, request_id, failed)
        else:
            healthy = False
            try:
                outcome = worker.invoke(request_id, event)
                healthy = not outcome.timed_out and worker.alive
            finally:
                self._release(spec, worker, healthy)
        if self.on_invoked:
            self.on_invoked(spec, outcome)
        return outcome

    def stats(self, arn: str | None = None) -> dict[str, int]:
        """One function's idle/busy/starts, or (no arn) the idle workers of all and their memory."""
        with self._lock:
            if arn is None:
                idle = [w for pool in self._pools.values() for w in pool.idle]
                return {"idle": len(idle), "idle_mb": round(sum(w.rss_mb() for w in idle))}
            pool = self._pools.get(arn)
            return {"idle": len(pool.idle), "busy": pool.busy, "starts": pool.starts} if pool else {}

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            for worker in pool.idle:
                worker.stop()

    def _acquire(self, spec: FunctionSpec, code: bytes, region: str) -> Worker:
        retired: list[Worker] = []
        waited: float | None = None  # set: no worker could be had before the deadline
        queued = time.monotonic()
        deadline = queued + init_window(spec.timeout_s)  # waiting for a start slot counts too
        with self._lock:
            pool = self._pools.get(spec.arn)
            if pool is None or pool.spec.fingerprint != spec.fingerprint:
                retired = pool.idle if pool else []
                pool = self._pools[spec.arn] = Pool(spec)
            else:
                pool.spec = spec  # concurrency may change without a cold start
            limit = spec.reserved_concurrency if spec.reserved_concurrency is not None else self.account_limit
            if pool.busy >= limit:
                throttled = True
            else:
                throttled = False
                pool.busy += 1
                worker = None
                while worker is None:
                    if pool.idle:
                        worker = pool.idle.pop()  # the most recently used: the oldest are reaped
                        if not worker.alive:
                            retired.append(worker)
                            worker = None
                            continue
                        break
                    if self._starting < self.max_starts:
                        self._starting += 1
                        pool.starts += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        pool.busy -= 1
                        waited = time.monotonic() - queued
                        break
                    self._changed.wait(remaining)
        for old in retired:
            old.stop()
        if waited is not None:
            raise InitFailed(0.0, [], waited_s=waited)
        if throttled:
            if self.on_invoked:
                self.on_invoked(spec, None)
            raise Throttled(f"Rate Exceeded: {spec.name} is at its concurrency limit of {limit}")
        if worker is not None:
            return worker
        try:
            python = self.python
            sdk, pycache = self._runtime_files()
            return Worker(
                spec,
                self._code_dir(spec, code),
                self._environment(spec, region),
                self.log,
                python=python.path,
                sdk_dir=sdk,
                pycache=pycache,
                note=f"Python {python.full_version}, not python3.12" if python.warning else "",
                init_timeout=max(1.0, deadline - time.monotonic()),
            )
        except OSError as exc:  # the interpreter cannot be run at all: an init failure too
            with self._lock:
                pool.busy -= 1
            said = [f"cannot start the runtime: {exc}"]
            raise InitFailed(0.0, said, exit_reason="exit status 127") from None
        except BaseException:
            with self._lock:
                pool.busy -= 1
            raise
        finally:
            with self._lock:
                self._starting -= 1
                self._changed.notify_all()

    def _release(self, spec: FunctionSpec, worker: Worker, healthy: bool) -> None:
        with self._lock:
            pool = self._pools.get(spec.arn)
            current = pool is not None and pool.spec.fingerprint == worker.spec.fingerprint
            if pool is not None and current:
                pool.busy -= 1
            kept = healthy and current and pool is not None
            if kept and pool is not None:
                worker.last_used = time.monotonic()
                pool.idle.append(worker)
            self._changed.notify_all()
        if not kept:
            worker.stop()
        self._trim()

    def _trim(self) -> None:
        """Stop idle workers that are dead, idle too long, or beyond the count and memory bounds,
        the least recently used first."""
        now = time.monotonic()
        stopped: list[Worker] = []
        sizes: dict[int, float] = {}
        if self.max_idle_mb:  # a /proc read per idle worker (~0.1 ms each): not under the lock
            with self._lock:
                measured = [w for pool in self._pools.values() for w in pool.idle]
            sizes = {id(w): w.rss_mb() for w in measured}  # measured keeps the ids unique
        with self._lock:
            idle = sorted(
                ((w.last_used, id(w), w, pool) for pool in self._pools.values() for w in pool.idle),
                key=lambda entry: entry[:2],
            )
            total = sum(sizes.get(key, 0.0) for _, key, _, _ in idle)  # one idle since: counted next time
            kept = len(idle)
            for _, key, worker, pool in idle:  # oldest first
                over = kept > self.max_idle or (self.max_idle_mb and total > self.max_idle_mb)
                if over or not worker.alive or now - worker.last_used > IDLE_SECONDS:
                    pool.idle.remove(worker)
                    stopped.append(worker)
                    kept -= 1
                    total -= sizes.get(key, 0)
        for worker in stopped:
            worker.stop()

    def _reaper(self) -> None:
        while not self._closed.wait(30):
            with contextlib.suppress(Exception):  # the next round tries again
                self._trim()

    def _runtime_files(self) -> tuple[Path | None, Path | None]:
        """(SDK folder, bytecode cache), prepared once before the first worker starts."""
        from localcloud import interpreter

        with self._prepare_lock:
            if self._prepared is None:
                try:
                    self._prepared = interpreter.prepare(self.python)
                except (ImportError, OSError):
                    self._prepared = (None, None)
            return self._prepared

    def _init_failure(self, spec: FunctionSpec, request_id: str, failed: InitFailed) -> Invocation:
        """The invocation of a worker that could not start, logged and answered as Lambda does."""
        now = _now_ms()
        runtime = spec.runtime.replace("python", "python:")
        lines = [(now, f"INIT_START Runtime Version: {runtime} (localcloud)")]
        lines += [(now, line) for line in failed.logs]
        duration = failed.init_ms or failed.waited_s * 1000
        if failed.exit_reason:
            error_type = "Runtime.ExitError"
            status = f"Status: error\tError Type: {error_type}"
            reason = f"RequestId: {request_id} Error: Runtime exited with error: {failed.exit_reason}"
            said = [f"{reason}\n{error_type}"]
            payload = {"errorType": error_type, "errorMessage": reason}
        else:
            status = "Status: timeout"
            message = f"{stamp_now()} {request_id} Task timed out after {spec.timeout_s:.2f} seconds"
            said = [message]
            payload = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
        lines.append((now, f"INIT_REPORT Init Duration: {duration:.2f} ms\tPhase: init\t{status}"))
        lines.append((now, f"START RequestId: {request_id} Version: $LATEST"))
        lines += [(now, line) for line in said]
        lines.append((now, f"END RequestId: {request_id}"))
        lines.append(
            (
                now,
                f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
                f"Billed Duration: {max(1, math.ceil(duration))} ms\tMemory Size: {spec.memory_mb} MB\t"
                f"Max Memory Used: 0 MB\t{status}",
            )
        )
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.log(spec.log_group, stream, lines)
        return Invocation(
            request_id,
            json.dumps(payload).encode(),
            "Unhandled",
            [line for _, line in lines],
            duration,
            max(1, math.ceil(duration)),
            spec.memory_mb,
            0,
            None,
            not failed.exit_reason,
        )

    def _code_dir(self, spec: FunctionSpec, code: bytes) -> Path:
        """The zip, extracted once per code hash (like Lambda's /var/task)."""
        safe = base64.urlsafe_b64encode(base64.b64decode(spec.code_sha256 + "==")).decode().rstrip("=")
        target = self.data_dir / "code" / safe
        if not target.is_dir():
            staging = target.with_name(target.name + f".{uuid.uuid4().hex}")
            staging.mkdir(parents=True)
            with zipfile.ZipFile(_bytes_io(code)) as archive:
                archive.extractall(staging)
            with contextlib.suppress(OSError):  # OSError: extracted concurrently by another call
                staging.rename(target)
        return target

    def _environment(self, spec: FunctionSpec, region: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "localcloud",
            "AWS_SECRET_ACCESS_KEY": "localcloud",
            "AWS_SESSION_TOKEN": "localcloud",
        }
        env.update(dict(spec.environment))
        env.update(
            {
                "_HANDLER": spec.handler,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "LAMBDA_TASK_ROOT": str(self.data_dir / "code"),
                "LOCALCLOUD_FUNCTION_ARN": spec.arn,
            }
        )
        return env


def _now_ms() -> int:
    return int(time.time() * 1000)


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def spec_of(fn: Any) -> FunctionSpec:
    """A FunctionSpec from moto's LambdaFunction."""
    reserved = getattr(fn, "reserved_concurrency", None)
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler,
        runtime=fn.run_time or "python3.12",
        memory_mb=int(fn.memory_size),
        timeout_s=int(fn.timeout),
        code_sha256=fn.code_sha_256,
        environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
        log_group=fn.logs_group_name,
        reserved_concurrency=None if reserved in (None, "") else int(reserved),
    )
