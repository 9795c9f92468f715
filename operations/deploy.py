"""Deploy: lint the template, package and publish the function, plan a change set, execute it.

``plan`` does everything up to a reviewed change set (or finds there is nothing to change);
``execute`` runs it and yields stack events until the stack settles, raising DeployFailed with
the root cause when it does not; ``discard`` drops a plan the user declined.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operations import package, stack, template
from operations.aws import Clients, translated
from operations.config import Settings
from operations.errors import StackBusy, StackNeedsAttention, TemplateInvalid

# Set by deploy itself, never by the user.
TOOL_PARAMETERS = {"ArtifactBucket", "ArtifactKey"}
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class Change:
    """One planned resource change of a change set."""

    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""  # True, False or Conditional, for a Modify


@dataclass(frozen=True)
class Plan:
    """A reviewed change set, or the finding that the stack is already up to date."""

    stack: str
    change_set_type: str  # CREATE or UPDATE
    change_set_id: str | None
    changes: list[Change] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    artifact: package.Published | None = None

    @property
    def no_changes(self) -> bool:
        return self.change_set_id is None


@translated
def plan(
    clients: Clients,
    settings: Settings,
    *,
    platform: str | None = None,
    template_path: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Plan:
    """Lint, package, publish and create the change set; a Plan with no change set if up to date."""
    body = template.read(template_path)
    template.lint(body, clients.region)
    template.check_parameters(body, settings.parameters, TOOL_PARAMETERS)
    cfn = clients.client("cloudformation")
    name = settings.target.stack
    change_set_type = _change_set_type(cfn, name)
    defaults = template.parameters(body)
    architecture = settings.parameters.get("Architecture") or defaults["Architecture"]["Default"]
    platform = platform or ("local" if clients.is_local_cloud() else architecture)
    published = package.publish(clients, package.build(platform))
    values = {**settings.parameters, "ArtifactBucket": published.bucket, "ArtifactKey": published.key}
    created = cfn.create_change_set(
        StackName=name,
        TemplateBody=body,
        ChangeSetName=f"resizer-{datetime.now(UTC):%Y%m%d-%H%M%S}",
        ChangeSetType=change_set_type,
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(values.items())],
        Capabilities=["CAPABILITY_IAM"],
        Description="resizer deploy",
        Tags=[{"Key": "resizer:stack", "Value": name}],
    )
    described = _wait_for_change_set(cfn, created["Id"], sleep)
    shown = {k: v for k, v in values.items() if not defaults.get(k, {}).get("NoEcho")}
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in _NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=created["Id"])
            return Plan(name, change_set_type, None, [], shown, published)
        discard(clients, Plan(name, change_set_type, created["Id"]))  # no empty stack left behind
        raise TemplateInvalid(f"CloudFormation refused the change set: {reason}", [reason])
    return Plan(name, change_set_type, created["Id"], _changes(cfn, described), shown, published)


@translated
def execute(
    clients: Clients,
    planned: Plan,
    *,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 2.0,
) -> Iterator[stack.StackEvent | stack.Settled]:
    """Execute the plan's change set; yield its stack events, then Settled; DeployFailed if it failed."""
    if planned.no_changes:
        return
    cfn = clients.client("cloudformation")
    after = stack.newest_event_id(cfn, planned.stack)
    cfn.execute_change_set(ChangeSetName=planned.change_set_id)
    stack_id = stack.require(cfn, planned.stack)["StackId"]
    for event in stack.watch(cfn, stack_id, after=after, sleep=sleep, poll=poll):
        yield event
        if isinstance(event, stack.Settled) and not event.ok:
            error = stack.failure(event, "deploy")
            if event.status == "ROLLBACK_COMPLETE":
                error.hint = "a failed first deploy cannot be updated: run 'resizer destroy', fix, deploy"
            raise error


@translated
def discard(clients: Clients, planned: Plan) -> None:
    """Delete a change set the user declined (and the empty stack a declined CREATE leaves)."""
    if planned.no_changes:
        return
    cfn = clients.client("cloudformation")
    cfn.delete_change_set(ChangeSetName=planned.change_set_id)
    found = stack.describe(cfn, planned.stack)
    if planned.change_set_type == "CREATE" and found and found["StackStatus"] == "REVIEW_IN_PROGRESS":
        cfn.delete_stack(StackName=planned.stack)


def _change_set_type(cfn: Any, name: str) -> str:
    found = stack.describe(cfn, name)
    status = found["StackStatus"] if found else None
    if status in (None, "REVIEW_IN_PROGRESS"):
        return "CREATE"
    if status == "ROLLBACK_COMPLETE":
        raise StackNeedsAttention(
            f"stack {name} is ROLLBACK_COMPLETE: its first deploy failed and CloudFormation cannot update it",
            hint="run 'resizer destroy' (the images bucket is kept), then deploy again",
        )
    if status in ("ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"):
        raise StackNeedsAttention(
            f"stack {name} is {status}: its rollback failed and CloudFormation cannot update it",
            hint="see 'resizer status' for the reason, then run 'resizer destroy' and deploy again",
        )
    if status in ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"):
        raise StackNeedsAttention(
            f"stack {name} is {status}",
            hint="see 'resizer status'; continue the rollback or delete the stack in the AWS console",
        )
    if not stack.settled(status):
        raise StackBusy(f"stack {name} is busy ({status})", hint="wait for it to finish: resizer status")
    return "UPDATE"


def _wait_for_change_set(cfn: Any, change_set_id: str, sleep: Callable[[float], None]) -> dict:
    for _ in range(300):
        described = cfn.describe_change_set(ChangeSetName=change_set_id)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        sleep(1.0)
    raise StackBusy(f"change set {change_set_id} was not ready after 5 minutes")


def _changes(cfn: Any, described: dict) -> list[Change]:
    raw = list(described.get("Changes", []))
    token = described.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=described["ChangeSetId"], NextToken=token)
        raw += page.get("Changes", [])
        token = page.get("NextToken")
    return [
        Change(
            action=c["ResourceChange"].get("Action", ""),
            logical_id=c["ResourceChange"].get("LogicalResourceId", ""),
            resource_type=c["ResourceChange"].get("ResourceType", ""),
            replacement=c["ResourceChange"].get("Replacement", "") or "",
        )
        for c in raw
        if "ResourceChange" in c
    ]
