"""operations.deploy against moto (plan, execute, discard); failed deploys from a scripted CloudFormation.

moto creates every resource it knows and never fails; what it cannot show (a rollback, a busy or
broken stack) comes from botocore's Stubber or a replaced ``stack.describe``.
"""

import base64
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cfnlint.decode import decode_str

from operations import deploy, stack, template
from operations.errors import (
    AwsError,
    ConfigError,
    DeployFailed,
    StackBusy,
    StackNeedsAttention,
    TemplateInvalid,
)
from operations.stack import Settled, StackEvent
from tests.operations.conftest import (
    FAILED_CREATE,
    GET_OBJECT_FAILED,
    MOTO_WARNINGS,
    NO_SLEEP,
    STACK,
    STACK_TYPE,
    Deployer,
    Sleeps,
    StubClients,
    described,
    describing,
    newest_first,
    poll,
    raw_event,
    set_moto_status,
    signing_key_of,
)

pytestmark = MOTO_WARNINGS


def code_sha256(hex_digest: str) -> str:
    """Lambda's CodeSha256: the base64 of the zip's SHA-256 digest."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def template_resources() -> set[str]:
    decoded, problems = decode_str(template.read())
    assert not problems
    return set(decoded["Resources"])


def change_set_ids(deployer: Deployer) -> list[str]:
    return [s["ChangeSetId"] for s in deployer.cfn.list_change_sets(StackName=STACK)["Summaries"]]


# --- with moto ----------------------------------------------------------------------------------------


def test_a_first_deploy_is_a_create_that_adds_every_resource(deployer: Deployer) -> None:
    planned = deployer.plan()

    assert planned.stack == STACK
    assert planned.change_set_type == "CREATE"
    assert planned.change_set_id and planned.change_set_id.startswith("arn:aws:cloudformation:")
    assert not planned.no_changes
    rows = {(c.action, c.logical_id, c.resource_type) for c in planned.changes}
    assert ("Add", "Function", "AWS::Lambda::Function") in rows
    assert ("Add", "ImagesBucket", "AWS::S3::Bucket") in rows
    assert {c.action for c in planned.changes} == {"Add"}
    assert {c.logical_id for c in planned.changes} == template_resources()
    # The zip was built for the template's default Architecture, and is not uploaded yet: a plan
    # publishes nothing (not even the artifacts bucket) until it is executed.
    assert deployer.build.calls == ["arm64"]
    published = planned.artifact
    assert published is not None and not published.present and not published.uploaded
    assert published.key == f"functions/{published.artifact.sha256}.zip"
    assert planned.parameters["ArtifactBucket"] == published.bucket
    assert planned.parameters["ArtifactKey"] == published.key
    assert planned.parameters["MemorySize"] == "1024"
    assert planned.parameters["SigningKey"] == ""  # signing is off: that is no secret; a key shows as ****
    assert deployer.clients.client("s3").list_buckets()["Buckets"] == []
    assert planned.parameters["Delivery"] == "website"  # the Deployer's default (plain moto: no CloudFront)
    assert deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert deployer.clients.client("lambda").list_functions()["Functions"] == []  # nothing created yet

    events = deployer.execute(planned)

    assert all(isinstance(e, StackEvent) for e in events[:-1]) and events[:-1]
    assert events[0].status == "CREATE_IN_PROGRESS"  # the REVIEW_IN_PROGRESS event was before `after`
    assert events[-2].status == "CREATE_COMPLETE"
    assert isinstance(events[-1], Settled) and events[-1].ok
    assert events[-1].status == "CREATE_COMPLETE"
    assert events[-1].root_cause is None
    function = deployer.function()
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == "resizer_function.handler.handler"
    assert function["CodeSha256"] == code_sha256(published.artifact.sha256)
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Parameters"]
    }
    assert parameters["ArtifactKey"] == published.key
    s3 = deployer.clients.client("s3")
    assert (
        s3.head_object(Bucket=published.bucket, Key=published.key)["ContentLength"] == published.artifact.size
    )


def test_deploying_the_same_code_and_parameters_again_changes_nothing(deployer: Deployer) -> None:
    first, _ = deployer.deploy(MemorySize="2048")
    before = deployer.function()

    again = deployer.plan(MemorySize="2048")

    assert again.no_changes
    assert again.change_set_id is None
    assert again.change_set_type == "UPDATE"
    assert again.changes == []
    # The stack's digest tag matched: no lint, no build, no change set.
    assert again.skipped and again.artifact is None
    assert deployer.build.calls == ["arm64"]
    assert not [c for c in again.parameter_changes if c.changed is not False]
    assert list(deploy.execute(deployer.clients, again, sleep=NO_SLEEP)) == []
    # The no-op change set was deleted: only the first deploy's (executed) one is left.
    assert change_set_ids(deployer) == [first.change_set_id]
    assert deployer.function()["CodeSha256"] == before["CodeSha256"]
    deploy.discard(deployer.clients, again)  # nothing to discard
    assert deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_a_code_change_updates_the_function(deployer: Deployer) -> None:
    first, _ = deployer.deploy()
    deployer.build.code = "def handler(event, context):\n    return {'statusCode': 204}\n"

    planned = deployer.plan()

    assert planned.change_set_type == "UPDATE" and not planned.no_changes
    assert planned.artifact is not None and first.artifact is not None
    assert planned.artifact.key != first.artifact.key and not planned.artifact.present
    events = deployer.execute(planned)
    assert events[-1] == Settled(events[-1].stack, "UPDATE_COMPLETE", None)
    assert [e.status for e in events[:-1]] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    function = deployer.function()
    assert function["CodeSha256"] == code_sha256(planned.artifact.artifact.sha256)
    assert function["CodeSha256"] != code_sha256(first.artifact.artifact.sha256)
    # The replaced zip is marked for the artifacts bucket's lifecycle rule; the running one is not.
    s3 = deployer.clients.client("s3")
    old = s3.get_object_tagging(Bucket=first.artifact.bucket, Key=first.artifact.key)["TagSet"]
    assert old == [{"Key": "resizer:superseded", "Value": "true"}]
    assert s3.get_object_tagging(Bucket=planned.artifact.bucket, Key=planned.artifact.key)["TagSet"] == []


def test_a_parameter_change_reaches_the_function(deployer: Deployer) -> None:
    deployer.deploy()
    assert deployer.function()["MemorySize"] == 1024

    planned, events = deployer.deploy(MemorySize="2048", AllowedSizes="100x100,x600", SigningKey="s3cret")

    assert planned.change_set_type == "UPDATE"
    assert events[-1].status == "UPDATE_COMPLETE"
    # NoEcho parameters are masked in the plan; the others are shown as given.
    assert planned.parameters["MemorySize"] == "2048"
    assert planned.parameters["AllowedSizes"] == "100x100,x600"
    assert planned.parameters["SigningKey"] == "****"
    assert "s3cret" not in repr(planned)
    function = deployer.function()
    assert function["MemorySize"] == 2048
    variables = function["Environment"]["Variables"]
    assert variables["ALLOWED_SIZES"] == "100x100,x600"
    assert signing_key_of(variables) == "s3cret"


def test_the_zip_is_built_for_the_architecture(deployer: Deployer) -> None:
    deployer.plan(Architecture="x86_64")
    deploy.plan(deployer.clients, deployer.settings("other"), platform="arm64", sleep=NO_SLEEP)
    assert deployer.build.calls == ["x86_64", "arm64"]


@pytest.mark.parametrize("platform", ["x86_64", "local"])
def test_on_aws_a_platform_other_than_the_stacks_architecture_is_refused(
    deployer: Deployer, platform: str
) -> None:
    """A zip built for x86_64 (or this machine) on an arm64 function cannot import Pillow on Lambda."""
    deployer.deploy()  # Architecture arm64, the default

    with pytest.raises(ConfigError) as raised:
        deploy.plan(deployer.clients, deployer.settings(), platform=platform, sleep=NO_SLEEP)

    assert raised.value.message == (
        f"stack resizer runs on arm64: a zip built for {platform} would not import on Lambda"
    )
    assert f"-p Architecture={platform}" in raised.value.hint or platform == "local"
    assert deployer.build.calls == ["arm64"]  # only the first deploy's build


def test_an_unknown_parameter_is_a_config_error_before_anything_is_done(deployer: Deployer) -> None:
    with pytest.raises(ConfigError) as raised:
        deployer.plan(MemorySize="2048", MemroySize="2048")
    assert raised.value.message == "unknown parameter(s) MemroySize"
    assert "MemorySize" in raised.value.hint and "AllowedSizes" in raised.value.hint
    assert "ArtifactKey" not in raised.value.hint  # set by deploy, never by the user
    assert deployer.build.calls == []
    assert stack.describe(deployer.cfn, STACK) is None
    assert deployer.clients.client("s3").list_buckets()["Buckets"] == []


def test_the_tool_parameters_cannot_be_set_by_the_user(deployer: Deployer) -> None:
    """ArtifactBucket/ArtifactKey are "set by deploy itself, never by the user" (TOOL_PARAMETERS):
    a user value must be refused, not silently replaced by the published zip."""
    with pytest.raises(ConfigError, match="ArtifactKey"):
        deployer.plan(ArtifactKey="functions/an-older-build.zip")
    assert deployer.build.calls == []


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    body = template.read()
    assert old in body
    path = tmp_path / "resizer.yaml"
    path.write_text(body.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("Role: !GetAtt FunctionRole.Arn", "Role: !GetAtt FunctionRol.Arn", "FunctionRol"),
        ("Runtime: python3.12", "Runtime: python2.0", "python2.0"),
        ("Resources:\n", "Resources:\n  [unclosed\n", "line"),
    ],
)
def test_a_template_that_fails_lint_is_refused_before_anything_is_created(
    deployer: Deployer, tmp_path: Path, old: str, new: str, problem: str
) -> None:
    path = broken_copy(tmp_path, old, new)
    with pytest.raises(TemplateInvalid) as raised:
        deploy.plan(deployer.clients, deployer.settings(), template_path=path, sleep=NO_SLEEP)
    assert raised.value.problems
    assert problem in " ".join(raised.value.problems)
    assert raised.value.message.startswith("the template has")
    assert deployer.build.calls == []
    assert stack.describe(deployer.cfn, STACK) is None
    assert deployer.clients.client("s3").list_buckets()["Buckets"] == []


def test_a_missing_template_is_template_invalid(deployer: Deployer, tmp_path: Path) -> None:
    with pytest.raises(TemplateInvalid, match="cannot read the template"):
        deploy.plan(
            deployer.clients, deployer.settings(), template_path=tmp_path / "nope.yaml", sleep=NO_SLEEP
        )


@pytest.mark.parametrize(
    ("status", "error", "hint"),
    [
        ("ROLLBACK_COMPLETE", StackNeedsAttention, "resizer destroy"),
        ("UPDATE_ROLLBACK_FAILED", StackNeedsAttention, "continue the rollback"),
        ("DELETE_FAILED", StackNeedsAttention, "resizer status"),
        ("CREATE_IN_PROGRESS", StackBusy, "wait"),
        ("UPDATE_IN_PROGRESS", StackBusy, "wait"),
        ("UPDATE_ROLLBACK_IN_PROGRESS", StackBusy, "wait"),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StackBusy, "wait"),
        ("DELETE_IN_PROGRESS", StackBusy, "wait"),
    ],
)
def test_a_stack_that_cannot_be_updated_now_is_refused_before_packaging(
    deployer: Deployer, monkeypatch: pytest.MonkeyPatch, status: str, error: type, hint: str
) -> None:
    monkeypatch.setattr(stack, "describe", describing(status))
    with pytest.raises(error) as raised:
        deployer.plan()
    assert status in raised.value.message
    assert hint in raised.value.hint
    assert deployer.build.calls == []


def test_a_stack_whose_rollback_failed_needs_attention(
    deployer: Deployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ROLLBACK_FAILED (a failed first deploy whose rollback failed too) can only be deleted; today
    it is treated as updatable, so the user gets CloudFormation's raw ValidationError."""
    monkeypatch.setattr(stack, "describe", describing("ROLLBACK_FAILED"))
    with pytest.raises(StackNeedsAttention, match="ROLLBACK_FAILED"):
        deployer.plan()
    assert deployer.build.calls == []


def test_an_update_rollback_complete_stack_can_be_deployed_again(deployer: Deployer) -> None:
    deployer.deploy()
    set_moto_status(STACK, "UPDATE_ROLLBACK_COMPLETE")
    deployer.build.code = "# a fix\n"
    planned, events = deployer.deploy()
    assert planned.change_set_type == "UPDATE"
    assert events[-1].status == "UPDATE_COMPLETE"


def test_discarding_a_declined_create_removes_the_change_set_and_the_empty_stack(deployer: Deployer) -> None:
    planned = deployer.plan()
    assert deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"

    deploy.discard(deployer.clients, planned)

    assert stack.describe(deployer.cfn, STACK) is None
    with pytest.raises(ClientError):
        deployer.cfn.describe_change_set(ChangeSetName=planned.change_set_id)
    # A new plan starts from scratch: a CREATE again.
    assert deployer.plan().change_set_type == "CREATE"


def test_discarding_a_declined_update_keeps_the_stack(deployer: Deployer) -> None:
    deployer.deploy()
    before = deployer.function()["CodeSha256"]
    deployer.build.code = "# declined\n"
    planned = deployer.plan()

    deploy.discard(deployer.clients, planned)

    assert deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError):
        deployer.cfn.describe_change_set(ChangeSetName=planned.change_set_id)
    assert deployer.function()["CodeSha256"] == before


# --- a failed deploy, from a scripted CloudFormation ------------------------------------------------------


CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/resizer-20250301-120000/9d8c"


def a_plan(change_set_type: str = "CREATE") -> deploy.Plan:
    return deploy.Plan(STACK, change_set_type, CHANGE_SET_ID)


def test_a_failed_first_deploy_reports_its_root_cause(cfn: Any) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", newest_first(FAILED_CREATE[:1]), {"StackName": STACK})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("describe_stacks", described("CREATE_IN_PROGRESS"), {"StackName": STACK})
    poll(stubber, "CREATE_IN_PROGRESS", FAILED_CREATE[:4])
    poll(stubber, "ROLLBACK_IN_PROGRESS", FAILED_CREATE[:9])
    poll(stubber, "ROLLBACK_COMPLETE", FAILED_CREATE)
    sleeps = Sleeps()
    seen: list[Any] = []

    with pytest.raises(DeployFailed) as raised:
        for event in deploy.execute(StubClients(client), a_plan(), sleep=sleeps, poll=3.0):
            seen.append(event)

    error = raised.value
    assert error.resource == "Function"
    assert error.reason == GET_OBJECT_FAILED
    # "deploy of stack <name or id> failed (ROLLBACK_COMPLETE): Function (AWS::Lambda::Function): <reason>"
    assert error.message.startswith("deploy of stack ")
    assert STACK in error.message
    assert error.message.endswith(
        f" failed (ROLLBACK_COMPLETE): Function (AWS::Lambda::Function): {GET_OBJECT_FAILED}"
    )
    assert "resizer destroy" in error.hint
    # Every event was shown before the error, the Settled last.
    assert [e.event_id for e in seen[:-1]] == [f"e{n}" for n in range(1, 12)]
    assert seen[-1].status == "ROLLBACK_COMPLETE" and seen[-1].root_cause.event_id == "e6"
    assert sleeps == [3.0, 3.0]


def test_a_failed_update_reports_its_root_cause_without_the_destroy_hint(cfn: Any) -> None:
    client, stubber = cfn
    history = [
        raw_event(30, STACK, STACK_TYPE, "UPDATE_COMPLETE"),
        raw_event(31, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
        raw_event(32, "Function", "AWS::Lambda::Function", "UPDATE_FAILED", "MemorySize is not valid"),
        raw_event(33, STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed"),
        raw_event(34, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE"),
    ]
    stubber.add_response("describe_stack_events", newest_first(history[:1]), {"StackName": STACK})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("describe_stacks", described("UPDATE_IN_PROGRESS"), {"StackName": STACK})
    poll(stubber, "UPDATE_ROLLBACK_COMPLETE", history)

    with pytest.raises(DeployFailed) as raised:
        list(deploy.execute(StubClients(client), a_plan("UPDATE"), sleep=NO_SLEEP))

    assert (raised.value.resource, raised.value.reason) == ("Function", "MemorySize is not valid")
    assert "(UPDATE_ROLLBACK_COMPLETE)" in raised.value.message
    assert raised.value.hint == ""


def test_a_service_error_while_executing_is_translated(cfn: Any) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", newest_first(FAILED_CREATE[:1]), {"StackName": STACK})
    stubber.add_client_error(
        "execute_change_set", "InvalidChangeSetStatus", "ChangeSet is in an invalid state", 400
    )
    with pytest.raises(AwsError) as raised:
        list(deploy.execute(StubClients(client), a_plan(), sleep=NO_SLEEP))
    assert raised.value.code == "InvalidChangeSetStatus"
