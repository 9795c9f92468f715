"""CloudFormation stack reading shared by deploy, status and destroy: state, outputs, events.

``watch`` polls a stack's events, de-duplicated by EventId, and yields them oldest first until
the stack settles; ``root_cause`` picks the first real failure out of them, so a user reads
"Function: S3 key does not exist" rather than "ROLLBACK_COMPLETE".
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from operations.aws import Clients, translated
from operations.errors import DeployFailed, StackNotFound, throttled

OK_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
_CANCELLED = ("Resource creation cancelled", "Resource update cancelled", "Resource deletion cancelled")


@dataclass(frozen=True)
class StackEvent:
    """One CloudFormation stack event."""

    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""
    physical_id: str = ""

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    @classmethod
    def from_api(cls, raw: dict) -> "StackEvent":
        return cls(
            event_id=raw["EventId"],
            timestamp=raw["Timestamp"],
            logical_id=raw.get("LogicalResourceId", ""),
            resource_type=raw.get("ResourceType", ""),
            status=raw.get("ResourceStatus", ""),
            reason=raw.get("ResourceStatusReason", "") or "",
            physical_id=raw.get("PhysicalResourceId", "") or "",
        )


@dataclass(frozen=True)
class Settled:
    """The last event of a stack operation: where the stack ended and, if it failed, why."""

    stack: str
    status: str
    root_cause: StackEvent | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


def describe(cfn: Any, stack: str) -> dict | None:
    """The stack's description, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            return None
        raise


def require(cfn: Any, stack: str) -> dict:
    found = describe(cfn, stack)
    if found is None:
        raise StackNotFound(f"stack {stack!r} does not exist", hint="deploy it with: resizer deploy")
    return found


@translated
def description(clients: Clients, stack: str) -> dict:
    """The stack's description, botocore errors translated; StackNotFound if there is none."""
    return require(clients.client("cloudformation"), stack)


def outputs(description: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}


def parameters(description: dict) -> dict[str, str]:
    """The stack's parameter values as DescribeStacks gives them (NoEcho ones as ****)."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in description.get("Parameters", [])}


def newest_event_id(cfn: Any, stack: str) -> str | None:
    events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    return events[0]["EventId"] if events else None


def new_events(cfn: Any, stack: str, seen: set[str], after: str | None) -> list[StackEvent]:
    """Events not seen yet and newer than the event id ``after``, oldest first."""
    fresh: list[StackEvent] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        for raw in page.get("StackEvents", []):
            if raw["EventId"] == after or raw["EventId"] in seen:
                return _remember(fresh, seen)
            fresh.append(StackEvent.from_api(raw))
    return _remember(fresh, seen)


def _remember(fresh: list[StackEvent], seen: set[str]) -> list[StackEvent]:
    seen.update(e.event_id for e in fresh)
    return list(reversed(fresh))


def settled(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


def watch(
    cfn: Any,
    stack: str,
    *,
    after: str | None,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 2.0,
    timeout: float = 3600.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[StackEvent | Settled]:
    """Yield the stack's new events until it settles, then a Settled (with the root cause)."""
    seen: set[str] = set()
    history: list[StackEvent] = []
    deadline = clock() + timeout
    backoff = 0.0
    status = "UNKNOWN_IN_PROGRESS"
    while True:
        try:
            status = _status(cfn, stack)
            for event in new_events(cfn, stack, seen, after):
                history.append(event)
                yield event
        except Exception as exc:  # a throttled read: wait longer and read again, the stack goes on
            if not throttled(exc):
                raise
            backoff = min(max(backoff * 2, poll, 1.0), MAX_BACKOFF)
        else:
            backoff = 0.0
            if settled(status):
                yield Settled(stack, status, None if status in OK_STATUSES else root_cause(history))
                return
        if clock() > deadline:
            raise DeployFailed(f"stack {stack} still {status} after {timeout:.0f} s", reason="timeout")
        sleep(backoff or poll)


MAX_BACKOFF = 30.0


def runs_artifact(cfn: Any, key: str) -> bool:
    """Whether a live stack runs this zip (zips are content-addressed, so stacks share them)."""
    for page in cfn.get_paginator("describe_stacks").paginate():
        for other in page["Stacks"]:
            params = {p["ParameterKey"]: p.get("ParameterValue") for p in other.get("Parameters", [])}
            if params.get("ArtifactKey") == key and other["StackStatus"] != "DELETE_COMPLETE":
                return True
    return False


def _status(cfn: Any, stack: str) -> str:
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as exc:  # a deleted stack asked for by name
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            return "DELETE_COMPLETE"
        raise


def root_cause(events: list[StackEvent]) -> StackEvent | None:
    """The first failed resource that was not merely cancelled; else the last stack-level reason."""
    failures = [e for e in events if e.failed and not e.reason.startswith(_CANCELLED)]
    resources = [e for e in failures if e.resource_type != "AWS::CloudFormation::Stack"]
    if resources or failures:
        return (resources or failures)[0]
    reasons = [e for e in events if e.reason and e.resource_type == "AWS::CloudFormation::Stack"]
    return reasons[-1] if reasons else None


def stack_name(stack: str) -> str:
    """A stack's name from its id (arn:...:stack/NAME/uuid) or its name."""
    return stack.split(":stack/", 1)[1].split("/", 1)[0] if ":stack/" in stack else stack


def failure(settled_event: Settled, action: str) -> DeployFailed:
    cause = settled_event.root_cause
    where = f"{cause.logical_id} ({cause.resource_type}): " if cause else ""
    reason = cause.reason if cause else "no reason was reported"
    name = stack_name(settled_event.stack)
    return DeployFailed(
        f"{action} of stack {name} failed ({settled_event.status}): {where}{reason}",
        resource=cause.logical_id if cause else "",
        reason=reason,
    )
