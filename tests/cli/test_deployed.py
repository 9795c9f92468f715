"""Commands against a stack already deployed: the module deploys it once (`resizer deploy --yes` with
a fake build, in the module's moto world) and no test here changes it."""

import pytest
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import FakeBuild, lint_once


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture(scope="module")
def deployed_once(shared_moto) -> None:
    with pytest.MonkeyPatch.context() as patch:
        FakeBuild(shared_moto / "builds").install(patch)
        lint_once(patch)
        patch.chdir(shared_moto)
        result = run(CliRunner(), "deploy", "--yes")
    assert result.exit_code == 0, result.output


@pytest.fixture
def deployed(deployed_once, shared_aws) -> None:
    """The module's deployed stack named resizer, from the test's own working directory."""


@pytest.mark.parametrize(
    "args",
    [
        ["logs", "--since", "[/]"],
        ["images", "get", "[/]x.png"],
        ["deploy", "--yes", "-p", "[/]"],
        ["--stack", "[/]", "status"],
    ],
)
def test_markup_in_user_input_is_printed_not_interpreted(runner, deployed, args):
    result = run(runner, *args)
    assert result.exit_code in (2, 6), result.output
    assert "[/]" in result.output and "Traceback" not in result.output


def test_an_empty_key_and_a_bad_endpoint_are_input_errors(runner, deployed):
    assert run(runner, "images", "get", "").exit_code == 2
    assert run(runner, "images", "rm", "").exit_code == 2
    result = run(runner, "--endpoint-url", "garbage", "status")
    assert result.exit_code == 2 and "invalid endpoint URL" in result.output


def test_a_zero_period_is_refused_not_replaced(runner, deployed):
    result = run(runner, "metrics", "--period", "0")
    assert result.exit_code == 2 and "whole number of minutes" in result.output
