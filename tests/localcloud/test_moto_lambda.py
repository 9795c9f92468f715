"""Asynchronous invokes: a throttled event is retried with backoff, then given up."""

from types import SimpleNamespace

from localcloud import lambda_runtime, moto_lambda


class FlakyRuntime:
    def __init__(self, throttles: int) -> None:
        self.throttles = throttles
        self.calls = 0

    def invoke(self, spec, code, event, region):
        self.calls += 1
        if self.calls <= self.throttles:
            raise lambda_runtime.Throttled("busy")
        return "done"


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
