"""Asynchronous invokes: a throttled event is retried with backoff, then given up; a function error
is retried twice, as Lambda does."""

from types import SimpleNamespace

from localcloud import lambda_runtime, moto_lambda


class FlakyRuntime:
    """Throttles its first ``throttles`` invocations, then answers a function error for the next
    ``failures`` ones, then succeeds."""

    def __init__(self, throttles: int = 0, failures: int = 0) -> None:
        self.throttles, self.failures = throttles, failures
        self.calls = 0

    def invoke(self, spec, code, event, region):
        self.calls += 1
        if self.calls <= self.throttles:
            raise lambda_runtime.Throttled("busy")
        failed = self.calls <= self.throttles + self.failures
        return SimpleNamespace(function_error="Unhandled" if failed else None)


def test_a_throttled_event_is_retried_until_it_runs(monkeypatch):
    waits = []
    monkeypatch.setattr(moto_lambda.time, "sleep", waits.append)
    runtime = FlakyRuntime(throttles=2)
    moto_lambda._quietly(runtime, None, SimpleNamespace(code_bytes=b"", region="us-east-1"), "{}")
    assert runtime.calls == 3 and waits == [1, 2]


def test_a_throttled_event_is_given_up_after_the_last_retry(monkeypatch):
    waits = []
    monkeypatch.setattr(moto_lambda.time, "sleep", waits.append)
    runtime = FlakyRuntime(throttles=99)
    moto_lambda._quietly(runtime, None, SimpleNamespace(code_bytes=b"", region="us-east-1"), "{}")
    assert runtime.calls == 5 and waits == [1, 2, 4, 8]


def test_a_function_error_is_retried_twice_then_given_up(monkeypatch):
    waits = []
    monkeypatch.setattr(moto_lambda.time, "sleep", waits.append)
    runtime = FlakyRuntime(failures=99)
    moto_lambda._quietly(runtime, None, SimpleNamespace(code_bytes=b"", region="us-east-1"), "{}")
    assert runtime.calls == 3 and waits == list(moto_lambda.ERROR_RETRY_DELAYS_S)


def test_a_function_error_then_a_success_stops_retrying(monkeypatch):
    monkeypatch.setattr(moto_lambda.time, "sleep", lambda s: None)
    runtime = FlakyRuntime(failures=1)
    moto_lambda._quietly(runtime, None, SimpleNamespace(code_bytes=b"", region="us-east-1"), "{}")
    assert runtime.calls == 2
