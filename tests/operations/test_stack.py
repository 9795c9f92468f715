"""operations.stack: watching a stack's events until it settles, and finding the root cause of a failure.

Driven by botocore's Stubber on a real CloudFormation client, so every request and response is
checked against the service model.
"""

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError, UnStubbedResponseError

from operations import stack
from operations.errors import DeployFailed, StackNotFound
from operations.stack import Settled, StackEvent
from tests.operations.conftest import (
    API,
    BUCKET,
    FAILED_CREATE,
    FUNCTION,
    GET_OBJECT_FAILED,
    STACK,
    STACK_ID,
    STACK_TYPE,
    T0,
    Sleeps,
    described,
    newest_first,
    poll,
    raw_event,
    stack_event,
)

# --- watch -------------------------------------------------------------------------------------------


def test_watch_yields_new_events_once_oldest_first_then_settled(cfn) -> None:
    client, stubber = cfn
    first = [
        raw_event(0, STACK, STACK_TYPE, "UPDATE_COMPLETE"),  # the previous deploy's last event
        raw_event(1, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
        raw_event(2, "Function", FUNCTION, "UPDATE_IN_PROGRESS"),
    ]
    second = [
        *first,
        raw_event(3, "Function", FUNCTION, "UPDATE_COMPLETE"),
        raw_event(4, STACK, STACK_TYPE, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
    ]
    third = [*second, raw_event(5, STACK, STACK_TYPE, "UPDATE_COMPLETE")]
    poll(stubber, "UPDATE_IN_PROGRESS", first)
    poll(stubber, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", second)
    poll(stubber, "UPDATE_COMPLETE", third)
    sleeps = Sleeps()

    seen = list(stack.watch(client, STACK_ID, after="e0", sleep=sleeps, poll=5.0))

    assert [e.event_id for e in seen[:-1]] == ["e1", "e2", "e3", "e4", "e5"]
    assert all(isinstance(e, StackEvent) for e in seen[:-1])
    assert seen[1] == StackEvent(
        "e2", T0 + timedelta(seconds=2), "Function", FUNCTION, "UPDATE_IN_PROGRESS", "", "Function-phys"
    )
    assert seen[-1] == Settled(STACK_ID, "UPDATE_COMPLETE", None)
    assert seen[-1].ok
    assert sleeps == [5.0, 5.0]


def test_watch_reads_every_page_of_a_burst_of_events_but_stops_at_what_it_has_seen(cfn) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stacks", described("CREATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": list(reversed(FAILED_CREATE[3:6])), "NextToken": "page-2"},
        {"StackName": STACK_ID},
    )
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": list(reversed(FAILED_CREATE[:3])), "NextToken": "page-3"},
        {"StackName": STACK_ID, "NextToken": "page-2"},
    )
    # The next poll's first page ends with an event already yielded: no request for page 2.
    stubber.add_response("describe_stacks", described("CREATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": list(reversed(FAILED_CREATE[4:7])), "NextToken": "page-2b"},
        {"StackName": STACK_ID},
    )
    stubber.add_response("describe_stacks", described("CREATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", newest_first(FAILED_CREATE[:7]), {"StackName": STACK_ID})

    seen = list(stack.watch(client, STACK_ID, after="e0", sleep=Sleeps()))

    assert [e.event_id for e in seen[:-1]] == ["e1", "e2", "e3", "e4", "e5", "e6"]
    assert seen[-1].status == "CREATE_COMPLETE"


def test_watch_of_a_failed_first_deploy_settles_with_the_failing_resource(cfn) -> None:
    client, stubber = cfn
    poll(stubber, "CREATE_IN_PROGRESS", FAILED_CREATE[:3])
    poll(stubber, "ROLLBACK_IN_PROGRESS", FAILED_CREATE[:9])
    poll(stubber, "ROLLBACK_COMPLETE", FAILED_CREATE)

    seen = list(stack.watch(client, STACK_ID, after="e0", sleep=Sleeps()))

    assert [e.event_id for e in seen[:-1]] == [f"e{n}" for n in range(1, 12)]
    settled = seen[-1]
    assert isinstance(settled, Settled)
    assert settled.status == "ROLLBACK_COMPLETE"
    assert not settled.ok
    assert settled.root_cause is not None
    assert settled.root_cause.event_id == "e6"
    assert (settled.root_cause.logical_id, settled.root_cause.reason) == ("Function", GET_OBJECT_FAILED)


def test_watch_of_a_stack_that_is_already_settled_yields_only_settled(cfn) -> None:
    client, stubber = cfn
    poll(stubber, "UPDATE_COMPLETE", FAILED_CREATE[:1])
    sleeps = Sleeps()
    assert list(stack.watch(client, STACK_ID, after="e0", sleep=sleeps)) == [
        Settled(STACK_ID, "UPDATE_COMPLETE", None)
    ]
    assert sleeps == []


def test_watch_gives_up_after_the_timeout_using_the_injected_clock(cfn) -> None:
    client, stubber = cfn
    for count in (2, 3, 3):
        poll(stubber, "UPDATE_IN_PROGRESS", FAILED_CREATE[:count])
    ticks = iter([1000.0, 1010.0, 1020.0, 1031.0])  # start; then one reading after each poll
    sleeps = Sleeps()
    seen: list[object] = []

    with pytest.raises(DeployFailed) as raised:
        for event in stack.watch(
            client, STACK_ID, after="e0", sleep=sleeps, poll=10.0, timeout=30.0, clock=lambda: next(ticks)
        ):
            seen.append(event)

    assert [e.event_id for e in seen] == ["e1", "e2"]
    assert sleeps == [10.0, 10.0]
    assert raised.value.reason == "timeout"
    assert raised.value.message == f"stack {STACK_ID} still UPDATE_IN_PROGRESS after 30 s"


def test_watch_backs_off_on_throttling_while_the_stack_keeps_changing(cfn) -> None:
    """A Throttling answer (after boto3's own retries) used to abort the watch mid-deploy: it now
    waits longer (doubling, up to MAX_BACKOFF) and reads again, and the stack's events all arrive."""
    client, stubber = cfn
    throttled = {
        "service_error_code": "Throttling",
        "service_message": "Rate exceeded",
        "http_status_code": 400,
    }
    poll(stubber, "UPDATE_IN_PROGRESS", FAILED_CREATE[:2])
    stubber.add_client_error("describe_stacks", expected_params={"StackName": STACK_ID}, **throttled)
    stubber.add_response("describe_stacks", described("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_client_error("describe_stack_events", expected_params={"StackName": STACK_ID}, **throttled)
    stubber.add_client_error("describe_stacks", expected_params={"StackName": STACK_ID}, **throttled)
    poll(stubber, "UPDATE_COMPLETE", [*FAILED_CREATE[:3], raw_event(9, STACK, STACK_TYPE, "UPDATE_COMPLETE")])
    sleeps = Sleeps()

    seen = list(stack.watch(client, STACK_ID, after="e0", sleep=sleeps, poll=2.0))

    assert [e.event_id for e in seen[:-1]] == ["e1", "e2", "e9"]
    assert seen[-1] == Settled(STACK_ID, "UPDATE_COMPLETE", None)
    assert sleeps == [2.0, 2.0, 4.0, 8.0]  # the poll, then backing off while throttled
    stubber.assert_no_pending_responses()


def test_watch_backoff_is_capped_and_other_errors_still_raise(cfn) -> None:
    client, stubber = cfn
    throttled = {
        "service_error_code": "Throttling",
        "service_message": "Rate exceeded",
        "http_status_code": 400,
    }
    for _ in range(8):
        stubber.add_client_error("describe_stacks", expected_params={"StackName": STACK_ID}, **throttled)
    stubber.add_client_error(
        "describe_stacks", expected_params={"StackName": STACK_ID}, service_error_code="AccessDenied"
    )
    sleeps = Sleeps()

    with pytest.raises(ClientError, match="AccessDenied"):
        list(stack.watch(client, STACK_ID, after="e0", sleep=sleeps, poll=2.0))

    assert sleeps == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert max(sleeps) == stack.MAX_BACKOFF


def test_watch_until_the_stack_is_deleted(cfn) -> None:
    client, stubber = cfn
    deleting = [
        raw_event(20, STACK, STACK_TYPE, "UPDATE_COMPLETE"),
        raw_event(21, STACK, STACK_TYPE, "DELETE_IN_PROGRESS", "User Initiated"),
        raw_event(22, "ImagesBucket", BUCKET, "DELETE_SKIPPED"),
    ]
    poll(stubber, "DELETE_IN_PROGRESS", deleting[:2])
    poll(stubber, "DELETE_COMPLETE", [*deleting, raw_event(23, STACK, STACK_TYPE, "DELETE_COMPLETE")])
    seen = list(stack.watch(client, STACK_ID, after="e20", sleep=Sleeps()))
    assert [e.event_id for e in seen[:-1]] == ["e21", "e22", "e23"]
    assert seen[-1] == Settled(STACK_ID, "DELETE_COMPLETE", None)
    assert seen[-1].ok


# --- root_cause and failure -----------------------------------------------------------------------


def test_root_cause_skips_cancelled_resources_and_picks_the_first_real_failure() -> None:
    events = [
        stack_event(1, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
        stack_event(2, "RestApi", API, "UPDATE_FAILED", "Resource update cancelled"),
        stack_event(3, "Function", FUNCTION, "UPDATE_FAILED", "Memory size 99999 is out of range"),
        stack_event(4, "FunctionRole", "AWS::IAM::Role", "UPDATE_FAILED", "a later, secondary failure"),
        stack_event(5, STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed"),
        stack_event(6, "Function", FUNCTION, "UPDATE_FAILED", "Resource creation cancelled"),
        stack_event(7, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE"),
    ]
    cause = stack.root_cause(events)
    assert cause is events[2]
    assert cause.reason == "Memory size 99999 is out of range"


def test_root_cause_prefers_a_resource_to_a_failed_stack_event() -> None:
    events = [
        stack_event(1, STACK, STACK_TYPE, "UPDATE_FAILED", "the stack failed"),
        stack_event(2, "Function", FUNCTION, "UPDATE_FAILED", "the function failed"),
    ]
    assert stack.root_cause(events) is events[1]


def test_root_cause_falls_back_to_a_failed_stack_event() -> None:
    events = [
        stack_event(1, "Function", FUNCTION, "DELETE_FAILED", "Resource deletion cancelled"),
        stack_event(2, STACK, STACK_TYPE, "DELETE_FAILED", "Role is in use by another stack"),
    ]
    assert stack.root_cause(events) is events[1]


def test_root_cause_falls_back_to_the_last_stack_level_reason() -> None:
    events = [
        stack_event(1, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
        stack_event(2, "Function", FUNCTION, "UPDATE_COMPLETE", "not a stack event"),
        stack_event(
            3, STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled by the user"
        ),
        stack_event(4, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE"),
    ]
    assert stack.root_cause(events) is events[2]
    assert stack.root_cause([]) is None
    assert stack.root_cause([stack_event(1, "Function", FUNCTION, "CREATE_COMPLETE")]) is None


def test_failure_names_the_resource_and_its_reason() -> None:
    cause = stack_event(6, "Function", FUNCTION, "CREATE_FAILED", GET_OBJECT_FAILED)
    error = stack.failure(Settled(STACK, "ROLLBACK_COMPLETE", cause), "deploy")
    assert isinstance(error, DeployFailed)
    assert (error.resource, error.reason) == ("Function", GET_OBJECT_FAILED)
    assert error.message == (
        "deploy of stack resizer failed (ROLLBACK_COMPLETE): Function (AWS::Lambda::Function): "
        + GET_OBJECT_FAILED
    )


def test_failure_without_a_cause_reads_cleanly() -> None:
    error = stack.failure(Settled(STACK, "DELETE_FAILED", None), "destroy")
    assert (error.resource, error.reason) == ("", "no reason was reported")
    assert "destroy of stack resizer failed (DELETE_FAILED)" in error.message
    assert error.message.endswith("no reason was reported")
    assert ": :" not in error.message  # an empty resource must not leave an empty field behind


@pytest.mark.parametrize(
    ("status", "ok", "settled"),
    [
        ("CREATE_COMPLETE", True, True),
        ("UPDATE_COMPLETE", True, True),
        ("DELETE_COMPLETE", True, True),
        ("IMPORT_COMPLETE", True, True),
        ("ROLLBACK_COMPLETE", False, True),
        ("UPDATE_ROLLBACK_COMPLETE", False, True),
        ("DELETE_FAILED", False, True),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False, False),
        ("UPDATE_IN_PROGRESS", False, False),
        ("REVIEW_IN_PROGRESS", False, False),
    ],
)
def test_settled_statuses(status: str, ok: bool, settled: bool) -> None:
    assert Settled(STACK, status).ok is ok
    assert stack.settled(status) is settled


def test_stack_event_from_the_api() -> None:
    raw = raw_event(3, "Function", FUNCTION, "CREATE_FAILED", None)
    del raw["PhysicalResourceId"]
    event = StackEvent.from_api(raw)
    assert (event.reason, event.physical_id) == ("", "")
    assert event.failed
    assert not stack_event(4, "Function", FUNCTION, "CREATE_COMPLETE").failed


# --- describe, require, outputs, newest_event_id --------------------------------------------------


def test_describe_and_require(cfn) -> None:
    client, stubber = cfn
    outputs = [
        {"OutputKey": "BucketName", "OutputValue": "images"},
        {"OutputKey": "FunctionName", "OutputValue": "f"},
    ]
    stubber.add_response(
        "describe_stacks", described("CREATE_COMPLETE", Outputs=outputs), {"StackName": STACK}
    )
    missing = f"Stack with id {STACK} does not exist"
    stubber.add_client_error(
        "describe_stacks", "ValidationError", missing, 400, expected_params={"StackName": STACK}
    )
    stubber.add_client_error(
        "describe_stacks", "ValidationError", missing, 400, expected_params={"StackName": STACK}
    )
    stubber.add_client_error("describe_stacks", "Throttling", "Rate exceeded", 400)

    found = stack.describe(client, STACK)
    assert found is not None and found["StackStatus"] == "CREATE_COMPLETE"
    assert stack.outputs(found) == {"BucketName": "images", "FunctionName": "f"}
    assert stack.outputs({"StackName": STACK}) == {}
    assert stack.describe(client, STACK) is None
    with pytest.raises(StackNotFound) as raised:
        stack.require(client, STACK)
    assert raised.value.message == "stack 'resizer' does not exist"
    assert "resizer deploy" in raised.value.hint
    with pytest.raises(ClientError):
        stack.describe(client, STACK)


def test_newest_event_id(cfn) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", newest_first(FAILED_CREATE[:3]), {"StackName": STACK})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK})
    assert stack.newest_event_id(client, STACK) == "e2"
    assert stack.newest_event_id(client, STACK) is None


def test_an_unexpected_call_fails_the_stubbed_tests(cfn) -> None:
    """The Stubber really checks the calls made (else the page tests above would prove nothing)."""
    client, _ = cfn
    with pytest.raises(UnStubbedResponseError):
        client.describe_stacks(StackName=STACK)
