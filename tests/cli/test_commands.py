"""The CLI's commands, exit codes and messages, against moto's in-process AWS."""

import json

import boto3
import pytest

from cli import errors as cli_errors
from cli.app import app
from operations import errors


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input)


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_version(runner):
    result = run(runner, "--version")
    assert result.exit_code == 0 and result.output.startswith("resizer ")


def test_deploy_then_status_then_no_changes(aws, fake_build, runner):
    result = run(runner, "deploy", "--yes")
    assert result.exit_code == 0, result.output
    assert "Add" in result.output and "Function" in result.output and "CREATE_COMPLETE" in result.output
    status = run(runner, "status", "--output", "json")
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    assert data["status"] == "CREATE_COMPLETE" and "BucketName" in data["outputs"]
    assert data["function"]["runtime"] == "python3.12"
    again = run(runner, "deploy", "--yes")
    assert again.exit_code == 0 and "No changes" in again.output


def test_deploy_json_streams_plan_events_and_settled(aws, fake_build, runner):
    result = run(runner, "--output", "json", "deploy", "--yes")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.output)
    assert lines[0]["event"] == "plan" and lines[0]["change_set_type"] == "CREATE"
    assert any(line["event"] == "stack_event" for line in lines)
    assert lines[-1]["event"] == "settled" and lines[-1]["ok"] is True


def test_deploy_without_yes_and_without_a_terminal_refuses_and_cleans_up(aws, fake_build, runner):
    result = run(runner, "deploy")
    assert result.exit_code == 1
    assert "pass --yes" in result.output
    cfn = boto3.client("cloudformation")
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]


def test_deploy_with_a_parameter_from_resizer_toml_and_a_flag(aws, fake_build, runner, tmp_path):
    (tmp_path / "resizer.toml").write_text('stack = "photos"\n[parameters]\nMemorySize = 1536\n')
    result = run(runner, "deploy", "--yes", "-p", "Timeout=20")
    assert result.exit_code == 0, result.output
    config = boto3.client("lambda").get_function_configuration(FunctionName="photos-resize")
    assert (config["MemorySize"], config["Timeout"]) == (1536, 20)


def test_unknown_parameter_is_a_config_error(aws, fake_build, runner):
    result = run(runner, "deploy", "--yes", "-p", "Colour=blue")
    assert result.exit_code == 2
    assert "unknown parameter(s) Colour" in result.output and "MemorySize" in result.output


def test_status_of_a_missing_stack(aws, runner):
    result = run(runner, "status", "--stack", "nothing-here")
    assert result.exit_code == 6
    assert "stack 'nothing-here' does not exist" in result.output
    assert "Traceback" not in result.output


def test_destroy_keeps_the_images(aws, fake_build, runner):
    assert run(runner, "deploy", "--yes").exit_code == 0
    bucket = json.loads(run(runner, "status", "-o", "json").output)["outputs"]["BucketName"]
    boto3.client("s3").put_object(Bucket=bucket, Key="photo.jpg", Body=b"x")
    refused = run(runner, "destroy")
    assert refused.exit_code == 1 and "pass --yes" in refused.output
    result = run(runner, "destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert f"keep   the images bucket {bucket}" in result.output
    assert boto3.client("s3").get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"x"
    assert run(runner, "status").exit_code == 6


def test_destroy_with_delete_images(aws, fake_build, runner):
    assert run(runner, "deploy", "--yes").exit_code == 0
    bucket = json.loads(run(runner, "status", "-o", "json").output)["outputs"]["BucketName"]
    boto3.client("s3").put_object(Bucket=bucket, Key="photo.jpg", Body=b"x")
    result = run(runner, "destroy", "--yes", "--delete-images")
    assert result.exit_code == 0, result.output
    names = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    assert bucket not in names


def test_no_credentials_means_the_local_cloud(monkeypatch, runner, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("RESIZER_LOCAL_PORT", "9")  # nothing listens there
    monkeypatch.setenv("RESIZER_CACHE_DIR", str(tmp_path / "cache"))
    result = run(runner, "status", "--region", "us-east-1")
    assert "No AWS credentials found: using the local cloud at http://127.0.0.1:9" in result.output
    assert result.exit_code == 4 and "cannot reach" in result.output and "resizer up" in result.output


def test_unknown_profile(monkeypatch, runner, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = run(runner, "status", "--profile", "nope")
    assert result.exit_code == 2 and "nope" in result.output


def test_bad_resizer_toml(aws, runner, tmp_path):
    (tmp_path / "resizer.toml").write_text("stack = [")
    result = run(runner, "status")
    assert result.exit_code == 2 and "resizer.toml" in result.output


def test_an_internal_error_is_one_line_unless_debug(aws, runner, monkeypatch):
    from operations import status as status_op

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(status_op, "status", broken)
    result = run(runner, "status")
    assert result.exit_code == cli_errors.INTERNAL_ERROR
    assert "internal error: RuntimeError: boom" in result.output and "Traceback" not in result.output
    debug = run(runner, "--debug", "status")
    assert isinstance(debug.exception, RuntimeError)


@pytest.mark.parametrize("kind, code", cli_errors.EXIT_CODES)
def test_every_error_type_has_its_exit_code(kind, code):
    assert cli_errors.exit_code(kind("x")) == code


def test_exit_codes_cover_every_operations_error_type():
    kinds = {k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, errors.OperationError)}
    assert kinds == {kind for kind, _ in cli_errors.EXIT_CODES}


def test_help_has_examples_and_target_options(runner):
    for command in ("deploy", "status", "destroy", "package"):
        result = run(runner, command, "--help")
        assert result.exit_code == 0
        assert "Examples" in result.output and "--profile" in result.output and "--region" in result.output
