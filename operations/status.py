"""Status: the stack's state, outputs, parameters and resources, its functions' configuration (the
resizer's and, in stacks that have it, the cleanup's and its EventBridge rule's state), and how
images are delivered (cdn or website, and the CDN URL)."""

from dataclasses import dataclass, field
from datetime import datetime

from operations import cdn, stack
from operations.aws import Clients, translated


@dataclass(frozen=True)
class Resource:
    logical_id: str
    resource_type: str
    status: str
    physical_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class FunctionInfo:
    """What a user checks first about a deployed function."""

    name: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_s: int
    code_sha256: str
    code_size: int
    last_modified: str
    state: str = ""
    reserved_concurrency: int | None = None
    local_runtime: str = ""  # the local cloud's interpreter for it, and a warning when not Lambda's
    local_warning: str = ""


@dataclass(frozen=True)
class RuleInfo:
    """The EventBridge rule that sends the bucket's object events to the cleanup function."""

    name: str
    state: str  # ENABLED, DISABLED (or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)
    description: str = ""

    @property
    def enabled(self) -> bool:
        return self.state.startswith("ENABLED")


@dataclass(frozen=True)
class StackStatus:
    stack: str
    status: str
    reason: str
    updated: datetime | None
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    function: FunctionInfo | None = None
    delivery: cdn.Delivery | None = None
    cleanup: FunctionInfo | None = None  # None in stacks made by templates older than the cleanup
    cleanup_rule: RuleInfo | None = None


@translated
def status(clients: Clients, name: str) -> StackStatus:
    """Everything about the deployed stack; StackNotFound if there is none."""
    cfn = clients.client("cloudformation")
    described = stack.require(cfn, name)
    outputs = stack.outputs(described)
    resources = [
        Resource(
            r["LogicalResourceId"],
            r["ResourceType"],
            r["ResourceStatus"],
            r.get("PhysicalResourceId", ""),
            r.get("ResourceStatusReason", "") or "",
        )
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=described["StackId"])
        for r in page["StackResourceSummaries"]
    ]
    function = outputs.get("FunctionName")
    physical = {r.logical_id: r.physical_id for r in resources if r.physical_id}
    # The outputs name them; a stack made before the template had those outputs still has the resources.
    cleanup = outputs.get("CleanupFunctionName") or physical.get("CleanupFunction")
    rule = outputs.get("CleanupRuleName") or physical.get("CleanupRule")
    parameters = stack.parameters(described)
    return StackStatus(
        stack=name,
        status=described["StackStatus"],
        reason=described.get("StackStatusReason", "") or "",
        updated=described.get("LastUpdatedTime") or described.get("CreationTime"),
        outputs=outputs,
        parameters=parameters,
        resources=resources,
        function=function_info(clients, function) if function else None,
        delivery=cdn.delivery_of(outputs, parameters),
        cleanup=function_info(clients, cleanup) if cleanup else None,
        cleanup_rule=rule_info(clients, rule) if rule else None,
    )


def rule_info(clients: Clients, name: str) -> RuleInfo | None:
    """The rule's state; None when it is gone (deleted by hand, or the stack is being deleted)."""
    from botocore.exceptions import ClientError

    bus = ""
    if "|" in name:  # a rule on a custom bus has the physical id BUS|NAME
        bus, name = name.split("|", 1)
    try:
        found = clients.client("events").describe_rule(Name=name, **({"EventBusName": bus} if bus else {}))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return RuleInfo(found["Name"], found.get("State", ""), found.get("Description", "") or "")


def secret_parameters() -> set[str]:
    """The template's NoEcho parameters, and SigningKey (kept in SSM): no front end shows their values."""
    from operations import template
    from operations.errors import TemplateInvalid
    from operations.signing_key import PSEUDO

    try:
        declared = template.parameters(template.read())
    except TemplateInvalid:  # an unreadable template hides nothing it cannot name; SigningKey stays hidden
        return {PSEUDO}
    return {name for name, spec in declared.items() if spec.get("NoEcho")} | {PSEUDO}


def function_info(clients: Clients, name: str) -> FunctionInfo | None:
    from botocore.exceptions import ClientError

    try:
        found = clients.client("lambda").get_function(FunctionName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    config = found["Configuration"]
    local = _local_python(clients) if clients.is_local_cloud() else {}
    return FunctionInfo(
        name=config["FunctionName"],
        runtime=config.get("Runtime", ""),
        architecture=(config.get("Architectures") or ["x86_64"])[0],
        memory_mb=config.get("MemorySize", 0),
        timeout_s=config.get("Timeout", 0),
        code_sha256=config.get("CodeSha256", ""),
        code_size=config.get("CodeSize", 0),
        last_modified=config.get("LastModified", ""),
        state=config.get("State", ""),
        reserved_concurrency=found.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
        local_runtime=f"CPython {local['full_version']} on {local['machine']}" if local else "",
        local_warning=local.get("warning", ""),
    )


def _local_python(clients: Clients) -> dict:
    """What the local cloud says runs its functions (localcloud.interpreter), {} if it does not say."""
    from operations.local import local_cloud_at

    found = local_cloud_at((clients.endpoint_url or "").rstrip("/")).get("lambda_python")
    return found if isinstance(found, dict) and found.get("full_version") else {}
