"""Lambda metric publishing: what AWS/Lambda publishes for each invocation, written into moto's CloudWatch.

``publish_invocation(spec, invocation)``, the Lambda runtime's ``on_invoked`` hook, writes
``Invocations``, ``Errors``, ``Duration`` and ``ConcurrentExecutions``, or ``Throttles`` (and no
``Invocations``) for a throttled call, straight into moto's CloudWatch backend (no HTTP); by
``FunctionName`` and for the whole account (no dimensions), as Lambda does.
"""

from datetime import datetime
from typing import Any

from localcloud.metrics import Datum, now, put


def publish_invocation(
    spec: Any,
    invocation: Any,
    *,
    runtime: Any = None,
    concurrency: int | None = None,
    at: datetime | None = None,
) -> None:
    """Publish AWS/Lambda's metrics for one invocation, or for a throttle when invocation is None.

    Account and region come from ``spec.arn``. ``ConcurrentExecutions`` is ``concurrency`` when
    given, else read from ``runtime`` (the busy workers of the function, plus the one that just
    finished), else 1 per invocation.
    """
    _, _, _, region, account_id, *_ = spec.arn.split(":")
    at = at or now()
    if concurrency is None:
        concurrency = busy_workers(runtime, spec.arn) if runtime is not None else 0
        if invocation is not None:
            concurrency += 1  # the runtime released this invocation's worker before the hook
    if invocation is None:
        values = [("Throttles", 1.0, "Count"), ("ConcurrentExecutions", float(concurrency), "Count")]
    else:
        values = [
            ("Invocations", 1.0, "Count"),
            ("Errors", 1.0 if invocation.function_error else 0.0, "Count"),
            ("Duration", float(invocation.duration_ms), "Milliseconds"),
            ("ConcurrentExecutions", float(concurrency), "Count"),
        ]
    data = [
        Datum("AWS/Lambda", name, dimensions, (value,), unit, at)
        for name, value, unit in values
        for dimensions in ((("FunctionName", spec.name),), ())
    ]
    put(account_id, region, data)


def busy_workers(runtime: Any, arn: str) -> int:
    """The function's busy workers, read without the runtime's lock.

    ``Runtime.stats`` takes the lock, and the runtime calls ``on_invoked`` for a throttle with that
    lock held; an int read is atomic, which is all this needs.
    """
    pool = getattr(runtime, "_pools", {}).get(arn)
    return int(pool.busy) if pool is not None else 0
