"""The cleanup function in operations: functions by role, status (function and rule), logs of both
functions (read, merged, followed, errors) and metrics, against moto in process."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from localcloud import log_filter
from localcloud import metrics as local_metrics
from operations import functions, logs, metrics
from operations.aws import Clients
from operations.errors import ConfigError
from operations.functions import Function
from operations.status import status
from tests.log_helpers import put_log_lines
from tests.metric_helpers import put_lambda_metrics
from tests.operations.conftest import MOTO_WARNINGS, STACK, Deployer

pytestmark = MOTO_WARNINGS

RESIZE = Function("resize", "resizer-resize", "/aws/lambda/resizer-resize")
CLEANUP = Function("cleanup", "resizer-cleanup", "/aws/lambda/resizer-cleanup")
BOTH_OUTPUTS = {
    "FunctionName": RESIZE.name,
    "LogGroupName": RESIZE.log_group,
    "CleanupFunctionName": CLEANUP.name,
    "CleanupLogGroupName": CLEANUP.log_group,
}


# --- functions ------------------------------------------------------------------------------------


def test_functions_by_role() -> None:
    assert functions.chosen(BOTH_OUTPUTS, "s") == [RESIZE, CLEANUP]
    assert functions.chosen(BOTH_OUTPUTS, "s", "cleanup") == [CLEANUP]
    assert functions.chosen(BOTH_OUTPUTS, "s", "resize") == [RESIZE]
    older = {"FunctionName": RESIZE.name}  # no log group output: Lambda's default group
    assert functions.chosen(older, "s") == [RESIZE]
    with pytest.raises(ConfigError, match="no cleanup function") as refused:
        functions.chosen(older, "s", "cleanup")
    assert "resizer deploy" in (refused.value.hint or "")
    with pytest.raises(ConfigError, match="unknown function 'thumbs'"):
        functions.chosen(BOTH_OUTPUTS, "s", "thumbs")
    with pytest.raises(ConfigError, match="no FunctionName output"):
        functions.chosen({}, "s")


def test_a_functions_default_log_group() -> None:
    assert functions.log_group("resizer-resize") == "/aws/lambda/resizer-resize"
    older = {"FunctionName": "f"}  # no LogGroupName output: Lambda's default group, by the one helper
    assert functions.of_outputs(older) == [Function("resize", "f", functions.log_group("f"))]


# --- status ---------------------------------------------------------------------------------------


def test_status_shows_the_cleanup_function_and_its_rule(deployer: Deployer) -> None:
    deployer.deploy()

    found = status(deployer.clients, STACK)

    assert found.function is not None and found.function.name == "resizer-resize"
    assert found.cleanup is not None and found.cleanup.name == "resizer-cleanup"
    assert found.cleanup.memory_mb == 256 and found.cleanup.timeout_s == 60 and found.cleanup.last_modified
    assert found.cleanup_rule is not None and found.cleanup_rule.enabled
    assert found.cleanup_rule.name == found.outputs["CleanupRuleName"]
    assert functions.of_stack(deployer.clients, STACK) == [
        RESIZE,
        Function("cleanup", "resizer-cleanup", "/aws/lambda/resizer-cleanup"),
    ]

    events = boto3.client("events")
    events.disable_rule(Name=found.cleanup_rule.name)
    disabled = status(deployer.clients, STACK).cleanup_rule
    assert disabled is not None and disabled.state == "DISABLED" and not disabled.enabled
    events.remove_targets(Rule=found.cleanup_rule.name, Ids=["cleanup"])
    events.delete_rule(Name=found.cleanup_rule.name)
    assert status(deployer.clients, STACK).cleanup_rule is None  # deleted behind the stack's back


def test_status_of_a_stack_without_a_cleanup(clients: Clients) -> None:
    template = (
        '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"FunctionName": {"Value": "f"}}}'
    )
    boto3.client("cloudformation").create_stack(StackName="old", TemplateBody=template)

    found = status(clients, "old")

    assert found.cleanup is None and found.cleanup_rule is None
    assert functions.of_stack(clients, "old") == [Function("resize", "f", "/aws/lambda/f")]


# --- logs -----------------------------------------------------------------------------------------


@pytest.fixture
def written(clients: Clients) -> datetime:
    """The same stream name in both groups (Lambda's names can meet): requests must not mix."""
    t = datetime.now(UTC) - timedelta(minutes=3)
    put_log_lines(RESIZE.log_group, "START RequestId: aaaaaaaa-1", "[ERROR] resize broke", at=t, stream="s")
    put_log_lines(
        CLEANUP.log_group,
        "START RequestId: bbbbbbbb-2",
        "[ERROR] cleanup broke",
        at=t + timedelta(seconds=1),
        stream="s",
    )
    put_log_lines(
        RESIZE.log_group,
        "REPORT RequestId: aaaaaaaa-1\tDuration: 5.00 ms",
        at=t + timedelta(seconds=2),
        stream="s",
    )
    put_log_lines(
        CLEANUP.log_group,
        "REPORT RequestId: bbbbbbbb-2\tDuration: 9.00 ms",
        at=t + timedelta(seconds=3),
        stream="s",
    )
    return t


def test_merged_interleaves_by_time_and_names_each_function(clients: Clients, written: datetime) -> None:
    found = list(logs.merged(clients, [RESIZE, CLEANUP], start=written - timedelta(minutes=1)))

    assert [(e.function, e.message[:12]) for e in found] == [
        ("resize", "START Reques"),
        ("resize", "[ERROR] resi"),
        ("cleanup", "START Reques"),
        ("cleanup", "[ERROR] clea"),
        ("resize", "REPORT Reque"),
        ("cleanup", "REPORT Reque"),
    ]
    assert len(list(logs.merged(clients, [RESIZE, CLEANUP], start=written, limit=3))) == 3
    only = list(logs.merged(clients, [CLEANUP], start=written, pattern="REPORT"))
    assert [(e.function, e.message[:6]) for e in only] == [("cleanup", "REPORT")]
    requests = [g for g in logs.grouped(found) if isinstance(g, logs.RequestLog)]
    assert [(r.request_id, r.report.duration_ms if r.report else None) for r in requests] == [
        ("aaaaaaaa-1", 5.0),
        ("bbbbbbbb-2", 9.0),
    ]
    assert {e.function for e in requests[1].events} == {"cleanup"}


def test_errors_of_both_functions(clients: Clients, written: datetime) -> None:
    found = logs.errors(clients, [RESIZE, CLEANUP], start=written - timedelta(minutes=1))
    assert [(e.function, e.message) for e in found] == [
        ("resize", "[ERROR] resize broke"),
        ("cleanup", "[ERROR] cleanup broke"),
    ]
    assert [e.function for e in logs.errors(clients, RESIZE.log_group, start=written)] == [""]


def test_a_missing_cleanup_group_adds_nothing(clients: Clients) -> None:
    put_log_lines(RESIZE.log_group, "only resize", at=datetime.now(UTC) - timedelta(seconds=30), stream="s")
    found = list(logs.merged(clients, [RESIZE, CLEANUP], start=datetime.now(UTC) - timedelta(minutes=5)))
    assert [(e.function, e.message) for e in found] == [("resize", "only resize")]


@pytest.mark.parametrize("live", [False, True])
def test_follow_both_functions(clients: Clients, written: datetime, live: bool) -> None:
    """Polling (the local cloud) and a live tail over both groups (AWS): each line once, named."""
    ours = live and not log_filter._patches.active
    if ours:
        log_filter.install()  # the local cloud's StartLiveTail takes each group by its ARN
    rounds: list[float] = []

    def sleep(seconds: float) -> None:
        rounds.append(seconds)
        put_log_lines(CLEANUP.log_group, f"late {len(rounds)}", at=datetime.now(UTC), stream="late")

    try:
        found = list(
            logs.follow(
                clients,
                [RESIZE, CLEANUP],
                start=written - timedelta(minutes=1),
                sleep=sleep,
                live=live,
                poll=0.0,
                stop=lambda: len(rounds) >= 3,  # the line written in the last round is not read
            )
        )
    finally:
        if ours:
            log_filter.uninstall()

    seen = [(e.function, e.message) for e in found]
    assert len(seen) == len(set(seen)) == 8, seen  # the 6 written before, then 2 of the 3 late ones
    assert seen[-2:] == [("cleanup", "late 1"), ("cleanup", "late 2")]
    assert {f for f, _ in seen[:6]} == {"resize", "cleanup"}


# --- metrics --------------------------------------------------------------------------------------


def test_metrics_with_the_cleanup(clients: Clients) -> None:
    local_metrics.install()
    try:
        at = datetime.now(UTC) - timedelta(minutes=5)
        put_lambda_metrics(RESIZE.name, at, Invocations=10.0, Errors=0.0, Duration=1234.0)
        put_lambda_metrics(CLEANUP.name, at, Invocations=4.0, Errors=1.0, Duration=1234.0)
        start = datetime.now(UTC) - timedelta(hours=1)
        both = metrics.function_metrics(clients, RESIZE.name, start=start, period=300, cleanup=CLEANUP.name)
        alone = metrics.function_metrics(clients, RESIZE.name, start=start, period=300)
        by_role = metrics.of_functions(clients, [RESIZE, CLEANUP], start=start, period=300)
        by_role_alone = metrics.of_functions(clients, [RESIZE], start=start, period=300)
    finally:
        local_metrics.uninstall()

    assert both.cleanup_function == CLEANUP.name
    summary = {s.key: s.summary for s in both.series}
    assert (summary["invocations"], summary["errors"]) == (10.0, 0.0)
    assert (summary["cleanup_invocations"], summary["cleanup_errors"]) == (4.0, 1.0)
    assert summary["cleanup_duration_max"] == 1234.0 and summary["cleanup_throttles"] == 0.0
    assert both.error_rate == 0.0 and both.cleanup_error_rate == 25.0
    assert alone.cleanup_function == "" and alone.cleanup_error_rate is None
    assert not [s for s in alone.series if s.key.startswith("cleanup_")]
    assert {s.key: s.summary for s in by_role.series} == summary and by_role.cleanup_function == CLEANUP.name
    assert [s.key for s in by_role_alone.series] == [s.key for s in alone.series]
    with pytest.raises(ConfigError, match="no resize function"):
        metrics.of_functions(clients, [CLEANUP], start=start)
