"""Deploy: lint the template, package the function, plan a change set, then publish and execute it.

``plan`` does everything up to a reviewed change set (or finds there is nothing to change); it
uploads nothing. ``execute`` publishes the zip (only now, once the user said yes), runs the
change set and yields stack events until the stack settles, raising DeployFailed with the root
cause when it does not; ``discard`` drops a plan the user declined.

On an UPDATE every parameter not given keeps the stack's value (``UsePreviousValue``). The
stack carries a tag with the digest of what was deployed (template, effective parameters, code
sources, platform): when a new deploy's digest matches, ``plan`` returns at once, skipping the
lint, the build and the change set.
"""

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operations import package, signing_key, stack, template
from operations import parameters as params
from operations.aws import Clients, translated
from operations.config import Settings
from operations.errors import ConfigError, OperationError, StackBusy, StackNeedsAttention, TemplateInvalid

# Set by deploy itself, never by the user.
TOOL_PARAMETERS = {"ArtifactBucket", "ArtifactKey"}
STACK_TAG = "resizer:stack"
DIGEST_TAG = "resizer:deployed"  # sha256 of what the last deploy through a change set sent
SECRETS_TAG = "resizer:noecho"  # Name=fingerprint;... of the NoEcho values (see parameters.fingerprint)
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_FAST_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


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
    parameters: dict[str, str] = field(default_factory=dict)  # the values the stack will have; NoEcho: ****
    artifact: package.Published | None = None  # present=False: uploaded when the plan is executed
    parameter_changes: list[params.ParameterChange] = field(default_factory=list)
    skipped: str = ""  # why no change set was made, when the recorded digest matched
    previous_artifact: tuple[str, str] | None = None  # the zip the stack ran before, to mark superseded
    retained_buckets: list[str] = field(default_factory=list)  # images buckets kept by earlier stacks
    adopted_bucket: str = ""  # an IMPORT plan: this existing bucket becomes the stack's images bucket
    template_path: str = ""  # an IMPORT plan's full template, deployed once the import is done
    template_sha256: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def no_changes(self) -> bool:
        return self.change_set_id is None

    @property
    def changed_parameters(self) -> list[params.ParameterChange]:
        return [p for p in self.parameter_changes if p.changed is not False]


@translated
def plan(
    clients: Clients,
    settings: Settings,
    *,
    platform: str | None = None,
    template_path: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
    force: bool = False,
) -> Plan:
    """Validate, then (unless the recorded digest matches) lint, build and create the change set."""
    body = template.read(template_path)
    declared = template.parameters(body)
    given = {k: str(v) for k, v in settings.parameters.items()}
    key = signing_key.take(given)  # not a template parameter: stored in SSM (operations/signing_key.py)
    params.validate(declared, given, TOOL_PARAMETERS)  # before any AWS call
    if platform is not None and platform not in package.PLATFORMS:
        known = ", ".join(package.PLATFORMS)
        raise ConfigError(f"unknown platform {platform!r}", hint=f"use one of: {known}")
    cfn = clients.client("cloudformation")
    name = settings.target.stack
    found = stack.describe(cfn, name)
    change_set_type = _change_set_type(found, name)
    current = stack.parameters(found or {}) if change_set_type == "UPDATE" else None
    signing = signing_key.resolve(clients, name, key, current)
    given.update(signing.given)
    _api_logs_role(clients, given, current, declared)
    tags = {t["Key"]: t["Value"] for t in (found or {}).get("Tags", [])}
    architecture = given.get("Architecture") or (current or {}).get("Architecture")
    architecture = architecture or str(declared["Architecture"]["Default"])
    platform = _platform(clients, platform, architecture, name)
    recorded = _recorded_fingerprints(tags.get(SECRETS_TAG, ""))
    salt = f"{clients.region}:{name}"
    resolved = _with_key(
        params.resolve(declared, given, current, set_by_tool={}, recorded=recorded, salt=salt), signing
    )
    digest = _digest(body, resolved, package.source_digest(platform), platform)
    if (
        not force
        and found
        and found["StackStatus"] in _FAST_STATUSES
        and tags.get(DIGEST_TAG) == digest
        and all(c.changed is False for c in resolved.changes)
    ):
        shown = {k: v for k, v in resolved.effective.items() if k not in TOOL_PARAMETERS}
        reason = "the template, the parameters and the code are those of the last deploy"
        return Plan(name, change_set_type, None, [], shown, None, resolved.changes, skipped=reason)
    retained: list[str] = []
    adopted = ""
    if change_set_type == "CREATE":
        retained, adopted = _retained_buckets(clients, name, given.get("BucketName", ""))
    template.lint(body, clients.region)
    staged = package.stage(clients, package.build(platform))
    resolved = params.resolve(
        declared,
        given,
        current,
        set_by_tool={"ArtifactBucket": staged.bucket, "ArtifactKey": staged.key},
        recorded=recorded,
        salt=salt,
    )
    resolved = _with_key(resolved, signing)
    new_tags = {STACK_TAG: name, DIGEST_TAG: digest}
    if resolved.fingerprints:
        new_tags[SECRETS_TAG] = ";".join(f"{k}={v}" for k, v in sorted(resolved.fingerprints.items()))
    from botocore.exceptions import ClientError

    shown = dict(resolved.effective)
    imported: dict[str, Any] = {"TemplateBody": body}
    if adopted:  # an existing bucket: import it into a new stack, then update it to the full template
        change_set_type = "IMPORT"
        imported = {
            "TemplateBody": _import_template(body, adopted),
            "ResourcesToImport": [
                {
                    "ResourceType": "AWS::S3::Bucket",
                    "LogicalResourceId": IMAGES_BUCKET,
                    "ResourceIdentifier": {"BucketName": adopted},
                }
            ],
        }
    try:
        created = cfn.create_change_set(
            StackName=name,
            ChangeSetName=f"resizer-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            ChangeSetType=change_set_type,
            Parameters=resolved.api,
            Capabilities=["CAPABILITY_IAM"],
            Description="resizer deploy",
            Tags=[{"Key": k, "Value": v} for k, v in new_tags.items()],
            **imported,
        )
    except ClientError as exc:  # some endpoints refuse an identical update at once (moto, the local cloud)
        if not any(marker in exc.response.get("Error", {}).get("Message", "") for marker in _NO_CHANGES):
            raise
        return Plan(name, change_set_type, None, [], shown, staged, resolved.changes)
    described = _wait_for_change_set(cfn, created["Id"], sleep)
    previous = None
    if current and current.get("ArtifactKey") and current.get("ArtifactKey") != staged.key:
        previous = (current.get("ArtifactBucket", staged.bucket), current["ArtifactKey"])
    result = Plan(name, change_set_type, created["Id"], [], shown, staged, resolved.changes, "", previous)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in _NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=created["Id"])
            return Plan(name, change_set_type, None, [], shown, staged, resolved.changes)
        discard(clients, result)  # no empty stack left behind
        raise TemplateInvalid(f"CloudFormation refused the change set: {reason}", [reason])
    changes = _changes(cfn, described)
    if adopted:  # what the update after the import adds
        resources = template.sections(body).get("Resources") or {}
        changes += [
            Change("Add", lid, str(r.get("Type"))) for lid, r in resources.items() if lid != IMAGES_BUCKET
        ]
    return Plan(
        name,
        change_set_type,
        created["Id"],
        changes,
        shown,
        staged,
        resolved.changes,
        "",
        previous,
        retained,
        adopted,
        str(template_path or template.DEFAULT_TEMPLATE),
        template.digest(body),
        new_tags,
    )


IMAGES_BUCKET = "ImagesBucket"


def _with_key(resolved: params.Resolved, signing: signing_key.Resolved) -> params.Resolved:
    """The resolved parameters plus the signing key's line: ``SigningKey`` as **** when signing is on."""
    # On when deploy stored a key, or the stack names a SecureString (one of the user's own, too).
    on = signing.signing or bool(resolved.effective.get(signing_key.NAME_PARAMETER))
    effective = {**resolved.effective, signing_key.PSEUDO: params.MASK if on else ""}
    changes = resolved.changes + ([signing.change] if signing.change else [])
    return params.Resolved(resolved.api, effective, changes, resolved.fingerprints)


def _import_template(body: str, bucket: str) -> str:
    """The template of an import: the stack's parameters, and the images bucket alone, by name."""
    declared = template.parameters(body)
    resource = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",  # as AWS requires of an imported resource
        "UpdateReplacePolicy": "Retain",
        "Properties": {"BucketName": bucket},
    }
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "resizer: import the images bucket; the next update adds the rest",
            "Parameters": declared,
            "Resources": {IMAGES_BUCKET: resource},
        },
        indent=1,
    )


def _retained_buckets(clients: Clients, name: str, bucket_name: str) -> tuple[list[str], str]:
    """Images buckets that earlier stacks of this name kept (CloudFormation names them
    ``<stack>-imagesbucket-<random>``), and the bucket to adopt: BucketName when it exists in this
    account (CloudFormation cannot create it, so the stack imports it); ConfigError when another
    account owns it."""
    from botocore.exceptions import ClientError

    s3 = clients.client("s3")
    if bucket_name:
        try:
            s3.head_bucket(Bucket=bucket_name, ExpectedBucketOwner=clients.account_id())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket", "NotFound"}:
                return [], ""
            raise ConfigError(
                f"the bucket {bucket_name} exists and is not this account's: a stack cannot use it",
                hint="leave BucketName out (a new bucket is made), or name a bucket of this account",
            ) from None
        return [], bucket_name
    prefix = f"{name.lower()}-imagesbucket-"
    found = s3.list_buckets().get("Buckets", [])
    return sorted(b["Name"] for b in found if b["Name"].startswith(prefix)), ""


LOGS_ROLE = "ApiGatewayLogsRole"


def _api_logs_role(clients: Clients, given: dict[str, str], current: dict | None, declared: dict) -> None:
    """API Gateway refuses a stage's access logging until the account has its CloudWatch role (one
    per account and region). A stack that does not have the parameter yet (a new one, or one made
    by an older template) sets the role only when the account has none (``create``), never
    replacing the account's; ``existing`` without one is refused here, before any change."""
    if LOGS_ROLE not in declared:
        return
    first_time = current is None or LOGS_ROLE not in current
    value = given.get(LOGS_ROLE) or (current or {}).get(LOGS_ROLE) or str(declared[LOGS_ROLE].get("Default"))
    if value != "existing" and not (first_time and LOGS_ROLE not in given):
        return
    role = clients.client("apigateway").get_account().get("cloudwatchRoleArn")
    if value == "existing" and not role:
        raise ConfigError(
            f"API Gateway has no CloudWatch Logs role for this account in {clients.region}: "
            "it refuses the stage's access logging without one",
            hint=f"deploy with -p {LOGS_ROLE}=create (the stack creates it and keeps it), "
            "or set one in API Gateway's Settings",
        )
    if first_time and LOGS_ROLE not in given and role:
        given[LOGS_ROLE] = "existing"  # the account's role is kept, not replaced by the stack's


def _recorded_fingerprints(tag: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in tag.split(";") if item)
    return {k: v for k, sep, v in pairs if sep}


def _digest(body: str, resolved: params.Resolved, code: str, platform: str) -> str:
    effective = {k: v for k, v in resolved.effective.items() if k not in TOOL_PARAMETERS}
    record = {
        "template": template.digest(body),
        "parameters": effective,
        "noecho": resolved.fingerprints,
        "code": code,
        "platform": platform,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _platform(clients: Clients, platform: str | None, architecture: str, name: str) -> str:
    """The platform to build for: the stack's architecture on AWS (any other is refused)."""
    if clients.is_local_cloud():
        return platform or "local"
    if platform and platform != architecture:
        raise ConfigError(
            f"stack {name} runs on {architecture}: a zip built for {platform} would not import on Lambda",
            hint=f"drop --platform, or change the stack's architecture with -p Architecture={platform}",
        )
    return architecture


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
    if planned.artifact is not None:  # the code goes up only now, once the plan was accepted
        package.publish(clients, planned.artifact.artifact)
    change_set_id = planned.change_set_id
    if planned.adopted_bucket:
        change_set_id = yield from _import_then_plan_update(cfn, planned, sleep=sleep, poll=poll)
    after = stack.newest_event_id(cfn, planned.stack)
    cfn.execute_change_set(ChangeSetName=change_set_id)
    stack_id = stack.require(cfn, planned.stack)["StackId"]
    for event in stack.watch(cfn, stack_id, after=after, sleep=sleep, poll=poll):
        if isinstance(event, stack.Settled) and not event.ok:
            yield event
            error = stack.failure(event, "deploy")
            if event.status == "ROLLBACK_COMPLETE":
                error.hint = "a failed first deploy cannot be updated: run 'resizer destroy', fix, deploy"
            raise error
        if isinstance(event, stack.Settled) and planned.previous_artifact:
            bucket, key = planned.previous_artifact
            if not stack.runs_artifact(cfn, key):
                with contextlib.suppress(OperationError):  # then it is merely never expired
                    package.supersede(clients, bucket, key)
        yield event


def _import_then_plan_update(
    cfn: Any, planned: Plan, *, sleep: Callable[[float], None], poll: float
) -> Iterator[stack.StackEvent | stack.Settled]:
    """Run the import (the stack takes the bucket), then create the update to the full template
    (every value as imported); the update's change set id."""
    body = template.read(Path(planned.template_path))
    if template.digest(body) != planned.template_sha256:
        raise ConfigError("the template changed since this plan was made", hint="plan again")
    after = stack.newest_event_id(cfn, planned.stack)
    cfn.execute_change_set(ChangeSetName=planned.change_set_id)
    stack_id = stack.require(cfn, planned.stack)["StackId"]
    for event in stack.watch(cfn, stack_id, after=after, sleep=sleep, poll=poll):
        if isinstance(event, stack.Settled):
            if not event.ok:
                yield event
                raise stack.failure(event, "import of the images bucket")
            continue  # the stack goes on: the update follows
        yield event
    names = template.parameters(body)
    created = cfn.create_change_set(
        StackName=planned.stack,
        TemplateBody=body,
        ChangeSetName=f"resizer-{datetime.now(UTC):%Y%m%d-%H%M%S}-after-import",
        ChangeSetType="UPDATE",
        Parameters=[{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(names)],
        Capabilities=["CAPABILITY_IAM"],
        Description="resizer deploy (after importing the images bucket)",
        Tags=[{"Key": k, "Value": v} for k, v in planned.tags.items()],
    )
    described = _wait_for_change_set(cfn, created["Id"], sleep)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        raise TemplateInvalid(f"CloudFormation refused the update after the import: {reason}", [reason])
    return created["Id"]


@translated
def discard(clients: Clients, planned: Plan) -> None:
    """Delete a change set the user declined (and the empty stack a declined CREATE leaves)."""
    if planned.no_changes:
        return
    cfn = clients.client("cloudformation")
    cfn.delete_change_set(ChangeSetName=planned.change_set_id)
    found = stack.describe(cfn, planned.stack)
    if (
        planned.change_set_type in ("CREATE", "IMPORT")
        and found
        and found["StackStatus"] == "REVIEW_IN_PROGRESS"
    ):
        cfn.delete_stack(StackName=planned.stack)


def _change_set_type(found: dict | None, name: str) -> str:
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
