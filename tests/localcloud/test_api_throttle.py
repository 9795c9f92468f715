"""The local API stage's token bucket (localcloud.api_throttle) and access log lines (api_access_log)."""

from types import SimpleNamespace

import pytest

from localcloud import api_access_log, api_throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def api_with(settings: dict) -> SimpleNamespace:
    return SimpleNamespace(id="api1", stages={"prod": SimpleNamespace(method_settings=settings)})


@pytest.fixture(autouse=True)
def fresh_buckets():
    api_throttle.reset()
    yield
    api_throttle.reset()


def admitted(api, clock, count: int, path: str = "/{proxy+}", method: str = "GET") -> int:
    return sum(api_throttle.admit(api, "prod", path, method, clock) for _ in range(count))


def test_a_burst_up_to_the_limit_passes_then_the_rate_refills():
    api, clock = api_with({"*/*": {"throttlingRateLimit": 2.0, "throttlingBurstLimit": 5}}), Clock()
    assert admitted(api, clock, 5) == 5  # a full bucket: the burst
    assert admitted(api, clock, 3) == 0
    clock.now += 1.0  # two tokens a second
    assert admitted(api, clock, 3) == 2
    clock.now += 60
    assert admitted(api, clock, 10) == 5  # never more than the burst


def test_a_methods_own_setting_wins_over_the_stages():
    settings = {
        "*/*": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 100},
        "~1{proxy+}/GET": {"throttlingRateLimit": 0.0, "throttlingBurstLimit": 1},
    }
    api, clock = api_with(settings), Clock()
    assert admitted(api, clock, 3) == 1
    assert admitted(api, clock, 3, method="HEAD") == 3


def test_zero_burst_refuses_everything_and_no_settings_limit_nothing():
    clock = Clock()
    assert (
        admitted(api_with({"*/*": {"throttlingRateLimit": 10.0, "throttlingBurstLimit": 0}}), clock, 3) == 0
    )
    assert admitted(api_with({}), clock, 50) == 50
    assert admitted(api_with({"*/*": {"metricsEnabled": True}}), clock, 50) == 50


def test_new_limits_start_a_full_bucket():
    clock = Clock()
    assert admitted(api_with({"*/*": {"throttlingRateLimit": 0.0, "throttlingBurstLimit": 2}}), clock, 5) == 2
    assert admitted(api_with({"*/*": {"throttlingRateLimit": 0.0, "throttlingBurstLimit": 4}}), clock, 5) == 4


def test_an_access_log_line_substitutes_context_variables_and_dashes_for_none():
    text = '{"requestId":"$context.requestId","status":"$context.status","error":"$context.error.message"}'
    line = api_access_log.line(text, {"requestId": "r-1", "status": 429, "error.message": None})
    assert line == '{"requestId":"r-1","status":"429","error":"-"}'


@pytest.mark.parametrize(
    ("arn", "found"),
    [
        (
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/x-access:*",
            ("us-east-1", "/aws/apigateway/x-access"),
        ),
        ("arn:aws:logs:eu-west-1:123456789012:log-group:g", ("eu-west-1", "g")),
        ("arn:aws:s3:::bucket", None),
        ("", None),
    ],
)
def test_the_destination_is_a_log_group_arn(arn, found):
    assert api_access_log.destination(arn) == found
