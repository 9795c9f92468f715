"""Real Lambda execution for the local cloud, without Docker.

Each function gets a pool of warm workers (``localcloud.lambda_worker`` child processes) that
import the deployed zip's handler once and serve invocations one at a time, like warm Lambda
containers. A change of code or configuration retires the pool, so the next call is a cold start.
The function's timeout is enforced by killing the worker ("Task timed out after N seconds");
reserved concurrency (or the local account limit) caps busy workers, and calls beyond it are
throttled. START / END / REPORT lines and everything the handler prints go to the function's log
group, one stream per worker, as on AWS.
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
INIT_TIMEOUT_S = 10.0
IDLE_SECONDS = 900.0  # a warm worker unused this long is stopped, as Lambda reclaims idle sandboxes


class Throttled(Exception):
    """No capacity left under the function's reserved concurrency (or the account limit)."""


class WorkerDied(Exception):
    """The worker process ended or timed out during an invocation."""


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

    def __init__(self, spec: FunctionSpec, code_dir: Path, env: dict[str, str], log: LogWriter) -> None:
        self.spec = spec
        self.log = log
        self.stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = {**env, "AWS_LAMBDA_LOG_STREAM_NAME": self.stream}
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        launched = time.perf_counter()  # Init Duration counts the runtime's start-up, as on AWS
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localcloud.lambda_worker", str(child_in), str(child_out)],
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
        threading.Thread(target=self._stray_output, daemon=True).start()
        try:
            ready = self._receive(time.monotonic() + INIT_TIMEOUT_S)
        except WorkerDied:
            self.stop()
            raise
        self.init_ms: float | None = (time.perf_counter() - launched) * 1000
        self.init_logs = [line for _, line in ready["logs"]]

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
        except WorkerDied:
            elapsed = (time.perf_counter() - started) * 1000
            self.stop()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
            now = _now_ms()
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
        return report + extra

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
                raise WorkerDied(f"exited with {self.process.poll()}")
            data += chunk
        return data

    def _stray_output(self) -> None:
        """Bytes written straight to the process's stdout/stderr (C extensions, crashes) are logged."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log(self.spec.log_group, self.stream, [(int(time.time() * 1000), line)])

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

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
    ) -> None:
        self.data_dir = data_dir
        self.log = log
        self.endpoint_url = endpoint_url
        self.account_limit = account_limit
        self.on_invoked = on_invoked
        self._pools: dict[str, Pool] = {}
        self._lock = threading.Lock()

    def invoke(self, spec: FunctionSpec, code: bytes, event: str, region: str) -> Invocation:
        """Run one invocation; Throttled when the function is at its concurrency limit."""
        request_id = str(uuid.uuid4())
        worker = self._acquire(spec, code, region)
        healthy = False
        try:
            outcome = worker.invoke(request_id, event)
            healthy = not outcome.timed_out and worker.alive
        finally:
            self._release(spec, worker, healthy)
        if self.on_invoked:
            self.on_invoked(spec, outcome)
        return outcome

    def stats(self, arn: str) -> dict[str, int]:
        with self._lock:
            pool = self._pools.get(arn)
            return {"idle": len(pool.idle), "busy": pool.busy, "starts": pool.starts} if pool else {}

    def shutdown(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            for worker in pool.idle:
                worker.stop()

    def _acquire(self, spec: FunctionSpec, code: bytes, region: str) -> Worker:
        with self._lock:
            pool = self._pools.get(spec.arn)
            if pool is None or pool.spec.fingerprint != spec.fingerprint:
                retired = pool.idle if pool else []
                pool = self._pools[spec.arn] = Pool(spec)
                for worker in retired:
                    worker.stop()
            else:
                pool.spec = spec  # concurrency may change without a cold start
            self._reap(pool)
            limit = spec.reserved_concurrency if spec.reserved_concurrency is not None else self.account_limit
            if pool.busy >= limit:
                if self.on_invoked:
                    self.on_invoked(spec, None)
                raise Throttled(f"Rate Exceeded: {spec.name} is at its concurrency limit of {limit}")
            pool.busy += 1
            worker = pool.idle.pop() if pool.idle else None
            if worker is None:
                pool.starts += 1
        if worker is not None:
            return worker
        try:
            return Worker(spec, self._code_dir(spec, code), self._environment(spec, region), self.log)
        except Exception:
            with self._lock:
                pool.busy -= 1
            raise

    def _release(self, spec: FunctionSpec, worker: Worker, healthy: bool) -> None:
        with self._lock:
            pool = self._pools.get(spec.arn)
            current = pool is not None and pool.spec.fingerprint == worker.spec.fingerprint
            if pool is not None and current:
                pool.busy -= 1
            if healthy and current and pool is not None:
                pool.idle.append(worker)
                return
        worker.stop()

    def _reap(self, pool: Pool) -> None:
        now = time.monotonic()
        for worker in [w for w in pool.idle if not w.alive or now - w.last_used > IDLE_SECONDS]:
            pool.idle.remove(worker)
            worker.stop()

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
            "PYTHONDONTWRITEBYTECODE": "1",
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
