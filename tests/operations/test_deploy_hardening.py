"""Deploy and the production bounds (moto in-process): the signing key stored as an SSM SecureString
and named to the template, never shown; the account's API Gateway CloudWatch role, never replaced."""

import pytest

from operations import deploy, signing_key
from operations.errors import ConfigError
from tests.operations.conftest import MOTO_WARNINGS, Deployer

pytestmark = MOTO_WARNINGS

NAME = "/resizer/resizer/signing-key"


def change(planned: deploy.Plan, name: str):
    return {p.name: p for p in planned.parameter_changes}.get(name)


def stored(deployer: Deployer) -> dict:
    ssm = deployer.clients.client("ssm")
    return ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]


def test_a_key_is_stored_once_as_a_securestring_and_named_to_the_template(deployer: Deployer) -> None:
    planned, _ = deployer.deploy(SigningKey="k-one")
    found = stored(deployer)
    assert (found["Type"], found["Value"], found["Version"]) == ("SecureString", "k-one", 1)
    assert (
        planned.parameters["SigningKeyParameter"] == NAME and planned.parameters["SigningKeyVersion"] == "1"
    )
    assert planned.parameters["SigningKey"] == "****" and "k-one" not in repr(planned)
    variables = deployer.function()["Environment"]["Variables"]
    # str(): plain moto keeps a Number parameter a number in the environment (the local cloud does not)
    assert (variables["SIGNING_KEY_PARAMETER"], str(variables["SIGNING_KEY_VERSION"])) == (NAME, "1")
    assert "k-one" not in repr(variables)

    same = deployer.plan(SigningKey="k-one")
    assert same.skipped and stored(deployer)["Version"] == 1  # the same value: no new version
    assert change(same, "SigningKey").shown == "**** (unchanged)"


def test_a_new_key_is_a_new_version_and_the_plan_says_changed(deployer: Deployer) -> None:
    deployer.deploy(SigningKey="k-one")
    planned, _ = deployer.deploy(SigningKey="k-two")
    assert change(planned, "SigningKey").shown == "**** → **** (changed)"
    assert change(planned, "SigningKeyVersion").shown == "1 → 2"
    assert str(deployer.function()["Environment"]["Variables"]["SIGNING_KEY_VERSION"]) == "2"
    assert stored(deployer)["Value"] == "k-two"


def test_an_omitted_key_is_kept_and_an_empty_one_turns_signing_off(deployer: Deployer) -> None:
    deployer.deploy(SigningKey="k-one")
    kept, _ = deployer.deploy(MemorySize="1536")
    assert change(kept, "SigningKey").shown == "**** (unchanged)"
    assert deployer.function()["Environment"]["Variables"]["SIGNING_KEY_PARAMETER"] == NAME
    off, _ = deployer.deploy(SigningKey="")
    assert change(off, "SigningKey").changed is True and off.parameters["SigningKey"] == ""
    assert deployer.function()["Environment"]["Variables"]["SIGNING_KEY_PARAMETER"] == ""


def test_the_key_and_its_parameter_cannot_both_be_given(deployer: Deployer) -> None:
    with pytest.raises(ConfigError) as caught:
        deployer.plan(SigningKey="k", SigningKeyParameter="/mine")
    assert "not both" in caught.value.message


def test_a_plain_string_parameter_in_the_way_is_refused(deployer: Deployer) -> None:
    deployer.clients.client("ssm").put_parameter(Name=NAME, Value="visible", Type="String")
    with pytest.raises(ConfigError) as caught:
        deployer.plan(SigningKey="k")
    assert "not a SecureString" in caught.value.message and "delete-parameter" in caught.value.hint


def test_existing_without_the_accounts_role_is_refused_before_any_change(deployer: Deployer) -> None:
    with pytest.raises(ConfigError) as caught:
        deployer.plan(ApiGatewayLogsRole="existing")
    assert "no CloudWatch Logs role" in caught.value.message
    assert not deployer.cfn.list_stacks()["StackSummaries"]


def test_a_new_stack_keeps_the_accounts_role_rather_than_replacing_it(deployer: Deployer) -> None:
    apigateway = deployer.clients.client("apigateway")
    role = "arn:aws:iam::123456789012:role/the-accounts-own"
    apigateway.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
    )
    planned = deployer.plan()
    assert planned.parameters["ApiGatewayLogsRole"] == "existing"
    assert deployer.plan(ApiGatewayLogsRole="create").parameters["ApiGatewayLogsRole"] == "create"  # if asked


def test_resizer_sign_needs_a_stack_that_signs(deployer: Deployer) -> None:
    deployer.deploy()
    with pytest.raises(ConfigError) as caught:
        signing_key.signed_url(deployer.clients, "resizer", "300x/a.jpg", expires_in=None, now=0)
    assert "does not sign requests" in caught.value.message
    deployer.deploy(SigningKey="k-one")
    signed = signing_key.signed_url(deployer.clients, "resizer", "300x/a.jpg", expires_in=60, now=1000)
    assert signed.expires == 1060 and "k-one" not in signed.url
    assert signed.url.endswith("/300x/a.jpg?expires=1060&sig=" + signed.url.rsplit("sig=", 1)[1])
