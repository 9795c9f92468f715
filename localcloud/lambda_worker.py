"""One warm Lambda execution environment: a child process that imports the handler once and serves
invocations from its parent (localcloud.lambda_runtime) over a private pipe.

Run as ``python -S -P lambda_worker.py PROTO_IN_FD PROTO_OUT_FD PARENT_PID [SDK_DIR]`` (the
function's interpreter, with no site-packages of its own) with the function's code directory as
the working directory and the Lambda environment variables set; it ends with its parent. Everything the
handler writes to sys.stdout / sys.stderr (print, logging) is captured per invocation, line by
line with a timestamp, and sent back with the result; stray writes to the process's file
descriptors go to the parent's stderr reader. Only the standard library is used here.
"""

import importlib
import io
import json
import os
import resource
import signal
import sys
import threading
import time
import traceback

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Captured(io.TextIOBase):
    """A text stream that records complete lines with the time they were written."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        now = int(time.time() * 1000)
        self.lines.extend((now, line) for line in complete)
        return len(text)

    def take(self) -> list[tuple[int, str]]:
        if self._partial:
            self.lines.append((int(time.time() * 1000), self._partial))
            self._partial = ""
        taken, self.lines = self.lines, []
        return taken


class Context:
    """The handler's context object, as the python3.12 runtime provides it."""

    def __init__(self, request_id: str, deadline_ms: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.invoked_function_arn = os.environ.get("LOCALCLOUD_FUNCTION_ARN", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def error_payload(exc: BaseException, request_id: str, error_type: str | None = None) -> dict:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)],
    }


def peak_memory_mb() -> int:
    """This process's peak RSS. ru_maxrss survives exec (it starts at the parent's), VmHWM does not."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL, every: float = 0.5) -> None:
    """End this process (with sig) when parent_pid ends, even by kill -9.

    On Linux the kernel sends the parent-death signal (prctl PR_SET_PDEATHSIG; it fires when the
    thread that started this process ends, so parents start children from a long-lived thread).
    Elsewhere, or if the parent was gone before prctl ran, a thread checks the parent every
    ``every`` seconds and sends the signal itself.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the watcher below does it

    def orphaned() -> bool:
        return os.getppid() != parent_pid

    def watch() -> None:
        while not orphaned():
            time.sleep(every)
        os.kill(os.getpid(), sig)
        time.sleep(10)  # a handler that ignores sig gets this long to finish
        os._exit(1)

    if orphaned():
        os.kill(os.getpid(), sig)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def load_handler(spec: str):
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def main() -> None:
    if len(sys.argv) > 3:
        die_with_parent(int(sys.argv[3]))
    sys.path[:0] = [path for path in sys.argv[4:] if path]  # the runtime's bundled SDK, after the task
    proto_in = os.fdopen(int(sys.argv[1]), "rb")
    proto_out = os.fdopen(int(sys.argv[2]), "wb")
    captured = Captured()
    sys.stdout = sys.stderr = captured  # the runtime sends both to CloudWatch Logs
    sys.path.insert(0, os.getcwd())

    def send(message: dict) -> None:
        data = json.dumps(message).encode()
        proto_out.write(len(data).to_bytes(4, "big") + data)
        proto_out.flush()

    started = time.perf_counter()
    try:
        handler, init_error = load_handler(os.environ["_HANDLER"]), None
    except Exception as exc:  # reported on every invocation, as Runtime.ImportModuleError
        handler, init_error = None, exc
        print(f"[ERROR] Runtime.ImportModuleError: Unable to import module: {exc}")
    send({"ready": True, "init_ms": (time.perf_counter() - started) * 1000, "logs": captured.take()})

    while True:
        header = proto_in.read(4)
        if len(header) < 4:
            return
        request = json.loads(proto_in.read(int.from_bytes(header, "big")))
        request_id = request["request_id"]
        began = time.perf_counter()
        error = None
        try:
            if handler is None:
                raise init_error  # type: ignore[misc]
            event = json.loads(request["event"]) if request["event"] else {}
            result = handler(event, Context(request_id, request["deadline_ms"]))
            payload = json.dumps(result)
        except Exception as exc:
            kind = "Runtime.ImportModuleError" if handler is None else None
            error = error_payload(exc, request_id, kind)
            print(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
            print("Traceback (most recent call last):\n" + "".join(traceback.format_tb(exc.__traceback__)))
            payload = json.dumps(error)
        usage = peak_memory_mb()
        send(
            {
                "payload": payload,
                "error": error is not None,
                "duration_ms": (time.perf_counter() - began) * 1000,
                "max_memory_mb": usage,
                "logs": captured.take(),
            }
        )


if __name__ == "__main__":
    main()
