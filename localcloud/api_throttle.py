"""API Gateway stage throttling in the local cloud: a token bucket per stage method, 429 when it is empty.

A stage's method settings (``MethodSettings`` of AWS::ApiGateway::Stage, or UpdateStage's
``/*/*/throttling/...``) give each method a bucket of ``throttlingBurstLimit`` tokens refilled at
``throttlingRateLimit`` per second; a request takes one token, or is answered ``429 {"message":"Too
Many Requests"}`` without reaching the integration, as API Gateway does. A method's own settings
(``{resource~1path}/{METHOD}``) take precedence over the stage's ``*/*``; a stage without throttling
settings is not limited here (AWS's account-level 10,000/s is not modelled).
"""

import threading
import time
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_buckets: dict[tuple[str, str, str, str], "Bucket"] = {}


class Bucket:
    """A token bucket: ``burst`` tokens at most, ``rate`` new tokens per second, full when made."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def limits(stage: Any, resource_path: str, method: str) -> tuple[float, float] | None:
    """(rate per second, burst) that apply to this method of the stage, or None when unthrottled."""
    settings = getattr(stage, "method_settings", None) or {}
    own = f"{resource_path.replace('/', '~1')}/{method}"  # /a/b -> ~1a~1b, as GetStage names it
    for key in (own, "*/*"):
        found = settings.get(key)
        if found and "throttlingRateLimit" in found and "throttlingBurstLimit" in found:
            return float(found["throttlingRateLimit"]), float(found["throttlingBurstLimit"])
    return None


def admit(
    api: Any, stage_name: str, resource_path: str, method: str, clock: Callable[[], float] = time.monotonic
) -> bool:
    """Whether the stage's throttling lets this request through (taking a token when it does)."""
    stage = api.stages.get(stage_name)
    found = limits(stage, resource_path, method) if stage is not None else None
    if found is None:
        return True
    rate, burst = found
    key = (api.id, stage_name, resource_path, method)
    now = clock()
    with _lock:
        bucket = _buckets.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):  # new or redeployed limits
            bucket = _buckets[key] = Bucket(rate, burst, now)
        return bucket.take(now)


def reset() -> None:
    """Forget every bucket (tests; a restarted local cloud starts with full buckets too)."""
    with _lock:
        _buckets.clear()
