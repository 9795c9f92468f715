"""Deploy never changes what it was not asked to change: omitted parameters keep their values, the
plan lists parameter changes (NoEcho as ****), values are checked before any AWS call, and a deploy
with nothing changed skips the lint, the build and the change set."""

from typing import Any

import pytest

from operations import deploy, parameters, template
from operations.aws import Clients
from operations.errors import ConfigError
from tests.operations.conftest import MOTO_WARNINGS, NO_SLEEP, STACK, Deployer, signing_key_of

pytestmark = MOTO_WARNINGS


def changes(planned: deploy.Plan) -> dict[str, str]:
    return {c.name: c.shown for c in planned.changed_parameters}


def test_an_update_keeps_every_omitted_parameter(deployer: Deployer) -> None:
    """A deploy without -p SigningKey=... used to send no SigningKey, so CloudFormation reverted it to
    its default (empty): signing was silently turned off. Same for a MemorySize set earlier."""
    deployer.deploy(SigningKey="s3cret", MemorySize="1536", AllowedSizes="100x100")
    deployer.build.code = "# new code\n"

    planned, events = deployer.deploy()  # code only

    assert events[-1].status == "UPDATE_COMPLETE"
    function = deployer.function()
    assert function["MemorySize"] == 1536
    variables = function["Environment"]["Variables"]
    assert signing_key_of(variables) == "s3cret"
    assert variables["ALLOWED_SIZES"] == "100x100"
    assert changes(planned) == {}  # only the code changed
    assert planned.parameters["MemorySize"] == "1536"


def test_the_plan_lists_parameter_changes_old_to_new(deployer: Deployer) -> None:
    deployer.deploy(MemorySize="1536")

    planned = deployer.plan(MemorySize="2048", AllowedSizes="100x100")

    assert changes(planned) == {"MemorySize": "1536 → 2048", "AllowedSizes": " → 100x100"}
    unchanged = {c.name for c in planned.parameter_changes if c.changed is False}
    assert {"Timeout", "SigningKeyParameter", "StageName"} <= unchanged
    assert "ArtifactKey" not in {c.name for c in planned.parameter_changes}  # the code is shown apart


def test_a_noecho_parameter_is_masked_and_said_changed_or_unchanged(deployer: Deployer) -> None:
    deployer.deploy(SigningKey="first-key")

    same = deployer.plan(SigningKey="first-key")
    other = deployer.plan(SigningKey="second-key")
    omitted = deployer.plan(MemorySize="2048")

    secret = {p.name: p for p in other.parameter_changes}["SigningKey"]
    assert secret.changed is True and secret.shown == "**** → **** (changed)"
    assert {p.name: p for p in same.parameter_changes}["SigningKey"].changed is False
    assert {p.name: p for p in omitted.parameter_changes}["SigningKey"].shown == "**** (unchanged)"
    for planned in (same, other, omitted):
        assert "first-key" not in repr(planned) and "second-key" not in repr(planned)
    assert same.skipped  # the same key, the same everything: nothing to do
    # The stack's tags hold a slow salted fingerprint, never the key.
    tags = deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Tags"]
    assert not any("first-key" in t["Value"] for t in tags)


def test_a_secret_given_to_a_stack_without_a_recorded_fingerprint_is_unknown() -> None:
    declared = {"SigningKey": {"Type": "String", "Default": "", "NoEcho": True}}
    resolved = parameters.resolve(
        declared, {"SigningKey": "k"}, {"SigningKey": "****"}, set_by_tool={}, recorded={}, salt="s"
    )
    assert resolved.changes[0].changed is None
    assert resolved.changes[0].shown == "**** → **** (given; the current value is hidden)"
    assert resolved.api == [{"ParameterKey": "SigningKey", "ParameterValue": "k"}]


class NoAws(Clients):
    """Clients whose every service call fails the test: validation must come first."""

    def __init__(self) -> None:
        super().__init__(session=None)

    def client(self, service: str, *, retries: bool = True) -> Any:
        raise AssertionError(f"an AWS call ({service}) was made before the parameters were checked")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("MemorySize", "abc", "MemorySize must be a number (Type: Number), not 'abc'"),
        ("MemorySize", "512", "MemorySize must be at least 1024 (MinValue), not 512"),
        ("Timeout", "29", "Timeout must be at most 28 (MaxValue), not 29"),
        ("ThrottleRateLimit", "-1", "ThrottleRateLimit must be at least 0 (MinValue), not -1"),
        ("ThrottleBurstLimit", "6000", "ThrottleBurstLimit must be at most 5000 (MaxValue), not 6000"),
        ("Tracing", "on", "Tracing must be one of its AllowedValues (PassThrough, Active)"),
        (
            "ApiGatewayLogsRole",
            "maybe",
            "ApiGatewayLogsRole must be one of its AllowedValues (create, existing)",
        ),
        ("SigningKeyParameter", "no-slash", "SigningKeyParameter must match its AllowedPattern"),
        ("SigningKey", "two\nlines", "SigningKey cannot contain a line break"),
        ("ResponseMode", "stream", "ResponseMode must be one of its AllowedValues (redirect, inline)"),
        ("RedirectStatus", "305", "RedirectStatus must be one of its AllowedValues (301, 302, 303, 307"),
        ("LogRetentionDays", "2", "LogRetentionDays must be one of its AllowedValues (1, 3, 5"),
        ("BucketName", "Not_A_Bucket", "BucketName must match its AllowedPattern"),
        ("StageName", "", "StageName must match its AllowedPattern"),
    ],
)
def test_a_value_outside_its_constraint_is_refused_before_any_aws_call(
    aws_env: None, name: str, value: str, said: str
) -> None:
    settings = Deployer(NoAws(), None).settings(**{name: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as raised:
        deploy.plan(NoAws(), settings, sleep=NO_SLEEP)
    assert raised.value.message.startswith("invalid parameter value: ")
    assert said in raised.value.message


def test_length_constraints_and_good_values_pass() -> None:
    declared = template.parameters(template.read())
    assert parameters.violation("ArtifactBucket", declared["ArtifactBucket"], "ab") == (
        "ArtifactBucket must be at least 3 characters long (MinLength)"
    )
    assert parameters.violation("ArtifactBucket", declared["ArtifactBucket"], "a" * 64) == (
        "ArtifactBucket must be at most 63 characters long (MaxLength)"
    )
    good = {"MemorySize": "2048", "RedirectStatus": "301", "BucketName": "", "LogRetentionDays": "14"}
    parameters.validate(declared, good, deploy.TOOL_PARAMETERS)


def test_nothing_changed_skips_lint_build_and_change_set(deployer: Deployer, monkeypatch) -> None:
    deployer.deploy(MemorySize="2048")
    change_sets = len(deployer.cfn.list_change_sets(StackName=STACK)["Summaries"])
    linted: list[str] = []
    monkeypatch.setattr(template, "lint", lambda body, region: linted.append(region))

    again = deployer.plan(MemorySize="2048")

    assert again.no_changes and again.skipped
    assert "last deploy" in again.skipped
    assert linted == [] and deployer.build.calls == ["arm64"]
    assert len(deployer.cfn.list_change_sets(StackName=STACK)["Summaries"]) == change_sets


@pytest.mark.parametrize(
    "change", ["code", "parameter", "template", "force"], ids=lambda c: f"a {c} change plans again"
)
def test_any_change_is_planned(deployer: Deployer, tmp_path, change: str) -> None:
    deployer.deploy()
    kwargs: dict[str, Any] = {}
    given: dict[str, str] = {}
    if change == "code":
        deployer.build.code = "# changed\n"
    elif change == "parameter":
        given = {"MemorySize": "2048"}
    elif change == "template":
        path = tmp_path / "resizer.yaml"
        path.write_text(template.read() + "\n# edited\n")
        kwargs["template_path"] = path
    else:
        kwargs["force"] = True

    planned = deploy.plan(deployer.clients, deployer.settings(**given), sleep=NO_SLEEP, **kwargs)

    assert not planned.skipped
    assert deployer.build.calls == ["arm64", "arm64"]


def test_a_stack_left_by_a_failed_update_is_never_skipped(deployer: Deployer) -> None:
    from tests.operations.conftest import set_moto_status

    deployer.deploy()
    set_moto_status(STACK, "UPDATE_ROLLBACK_COMPLETE")

    planned = deployer.plan()

    assert not planned.skipped


def test_a_bucket_name_owned_by_another_account_is_refused_before_a_stack_is_made(
    deployer: Deployer, monkeypatch
) -> None:
    """HeadBucket with ExpectedBucketOwner answers 403 for another account's bucket: neither created
    (it exists) nor imported (it is not ours), so deploy stops with exit 2 before any stack."""
    from botocore.stub import Stubber

    s3 = deployer.clients.client("s3")
    with Stubber(s3) as stubber:
        stubber.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
        with pytest.raises(ConfigError) as raised:
            deployer.plan(BucketName="someone-elses")
    assert "exists and is not this account's" in raised.value.message
    assert deployer.build.calls == []
    assert deployer.cfn.list_stacks()["StackSummaries"] == []
