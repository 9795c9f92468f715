"""Wires the local Lambda runtime into moto: every Invoke runs the function's real code.

moto's ``LambdaFunction.invoke`` (used by the Invoke API and by moto's own event sources) needs
Docker; ``install`` replaces it, on the class, with a call into ``lambda_runtime.Runtime`` and
maps the outcome to Lambda's API: the payload, ``X-Amz-Function-Error: Unhandled``, the 4 KB log
tail for ``LogType=Tail``, and ``TooManyRequestsException`` (HTTP 429) when throttled.
``uninstall`` gives moto its own ``invoke`` back.
"""

import threading
import time
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction

from localcloud import lambda_runtime, patching

_patches = patching.Patches("moto_lambda")
_runtimes: list[lambda_runtime.Runtime] = []  # the runtime of the last install
ERROR_RETRY_DELAYS_S = (1, 2)  # an async invocation that fails is retried twice (AWS: after 1, 2 min)


class TooManyRequests(LambdaClientError):
    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def write_log(fn: Any) -> lambda_runtime.LogWriter:
    """A LogWriter that appends to moto's CloudWatch Logs backend of the function's account."""

    def write(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        logs = fn.logs_backend
        logs.ensure_log_group(group)
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": ts, "message": line} for ts, line in events])

    return write


def install(runtime: lambda_runtime.Runtime) -> None:
    """Route every moto Lambda invocation through runtime (idempotent; last install wins)."""
    with _patches.installing():
        _runtimes[:] = [runtime]
        if not _patches.active:
            expect = "self, body, request_headers, response_headers"
            _patches.set(LambdaFunction, "invoke", _invoke, expect=expect)


def uninstall() -> None:
    """Give moto back its own (Docker-based) invoke."""
    with _patches.lock:
        _patches.undo()
        _runtimes.clear()


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    event = body.decode() if isinstance(body, bytes) else (body or "")
    if (request_headers or {}).get("X-Amz-Invocation-Type") == "Event":
        invoke_async(self, event)
        return b""
    runtime = _runtimes[0]
    runtime.log = write_log(self)
    try:
        outcome = runtime.invoke(lambda_runtime.spec_of(self), self.code_bytes, event, self.region)
    except lambda_runtime.Throttled as exc:
        raise TooManyRequests(str(exc)) from None
    if outcome.function_error:
        response_headers["x-amz-function-error"] = outcome.function_error
    response_headers["x-amz-log-result"] = outcome.log_tail
    response_headers["x-amzn-RequestId"] = outcome.request_id
    response_headers["x-amz-executed-version"] = "$LATEST"
    return outcome.payload


def invoke_async(fn: Any, event: str) -> None:
    """Queue an asynchronous invocation of fn (moto's LambdaFunction), as an AWS service that invokes
    with InvocationType=Event does (EventBridge, S3): the caller does not wait for it."""
    runtime = _runtimes[0]
    runtime.log = write_log(fn)
    spec = lambda_runtime.spec_of(fn)
    threading.Thread(target=_quietly, args=(runtime, spec, fn, event), daemon=True).start()


def _quietly(runtime: lambda_runtime.Runtime, spec: Any, fn: Any, event: str) -> None:
    """An asynchronous invoke: a throttled one is retried with backoff, as Lambda's event queue does
    (for a few seconds here rather than up to six hours), and a function error is retried twice, as
    Lambda retries async invocations by default (after 1 s and 2 s here; 1 and 2 minutes on AWS)."""
    throttles = iter((1, 2, 4, 8))
    errors = iter(ERROR_RETRY_DELAYS_S)
    while True:
        try:
            outcome = runtime.invoke(spec, fn.code_bytes, event, fn.region)
        except lambda_runtime.Throttled:
            delay = next(throttles, None)
        else:
            delay = next(errors, None) if outcome.function_error else None
        if delay is None:
            return
        time.sleep(delay)
