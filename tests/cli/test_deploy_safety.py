"""`resizer deploy` changes only what it is asked to: parameters kept, changes listed, bad values and
foreign platforms refused before anything happens, and a deploy with nothing changed is a no-op."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from cli.app import app


def run(runner, *args):
    return runner.invoke(app, list(args), terminal_width=200)


def template_parameters() -> dict:
    from cfnlint.decode import decode

    from operations import template

    decoded, _ = decode(str(template.DEFAULT_TEMPLATE))
    return decoded["Parameters"]


def signing_key_of(variables: dict) -> str:
    """The key the function reads: the SSM SecureString (at its version) its environment names."""
    import boto3

    name, version = variables["SIGNING_KEY_PARAMETER"], variables["SIGNING_KEY_VERSION"]
    found = boto3.client("ssm").get_parameter(Name=f"{name}:{version}", WithDecryption=True)["Parameter"]
    assert found["Type"] == "SecureString" and found["Value"] not in str(variables)
    return found["Value"]


def function_config():
    return boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")


def test_a_code_only_deploy_keeps_signing_and_memory(aws, fake_build, runner):
    first = run(runner, "deploy", "--yes", "-p", "SigningKey=k3y-never-shown", "-p", "MemorySize=1536")
    assert first.exit_code == 0, first.output
    fake_build.code = "# new code\n"

    result = run(runner, "deploy", "--yes")

    assert result.exit_code == 0, result.output
    # all but ArtifactBucket and ArtifactKey, which a deploy sets, plus SigningKey (kept in SSM)
    others = len(template_parameters()) - 2 + 1
    assert f"{others} other parameter(s) keep their current values" in result.output
    config = function_config()
    assert config["MemorySize"] == 1536
    assert signing_key_of(config["Environment"]["Variables"]) == "k3y-never-shown"
    assert "k3y-never-shown" not in first.output + result.output


def test_the_plan_shows_parameter_changes_with_noecho_masked(aws, fake_build, runner):
    assert run(runner, "deploy", "--yes", "-p", "MemorySize=1536", "-p", "SigningKey=old-key").exit_code == 0

    result = run(runner, "deploy", "--yes", "-p", "MemorySize=2048", "-p", "SigningKey=new-key")

    assert result.exit_code == 0, result.output
    assert "MemorySize" in result.output and "1536 → 2048" in result.output
    assert "**** → **** (changed)" in result.output
    assert "old-key" not in result.output and "new-key" not in result.output
    assert signing_key_of(function_config()["Environment"]["Variables"]) == "new-key"


def test_a_bad_value_exits_2_naming_the_parameter_and_its_constraint(aws, fake_build, runner):
    result = run(runner, "deploy", "--yes", "-p", "MemorySize=abc")

    assert result.exit_code == 2, result.output
    assert "MemorySize must be a number (Type: Number)" in result.output
    assert fake_build.calls == []
    assert boto3.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_platform_other_than_the_architecture_is_refused_on_aws(aws, fake_build, runner):
    assert run(runner, "deploy", "--yes").exit_code == 0  # arm64

    for platform in ("x86_64", "local"):
        result = run(runner, "deploy", "--yes", "--platform", platform)
        assert result.exit_code == 2, result.output
        assert f"runs on arm64: a zip built for {platform} would not import on Lambda" in result.output
    assert fake_build.calls == ["arm64"]


def test_nothing_changed_is_a_fast_no_op_and_says_so(aws, fake_build, runner):
    assert run(runner, "deploy", "--yes", "-p", "MemorySize=1536").exit_code == 0
    assert run(runner, "deploy", "--yes", "-p", "MemorySize=2048").exit_code == 0  # an update records too

    result = run(runner, "deploy", "--yes", "-p", "MemorySize=2048")
    as_json = run(runner, "-o", "json", "deploy", "--yes")

    assert result.exit_code == 0, result.output
    assert "No changes" in result.output and "lint, build and change set skipped" in result.output
    assert fake_build.calls == ["arm64", "arm64"]
    assert json.loads(as_json.output)["skipped"]
    forced = run(runner, "deploy", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert "No changes" in forced.output and "skipped" not in forced.output
    assert fake_build.calls == ["arm64", "arm64", "arm64"]


def test_destroy_says_what_the_kept_bucket_becomes_and_the_next_deploy_names_it(aws, fake_build, runner):
    """After destroy the kept bucket's policy is gone (403): say so, and a later deploy of the same
    stack, which makes a new bucket, names the old one instead of silently ignoring it."""
    assert run(runner, "deploy", "--yes").exit_code == 0
    bucket = json.loads(run(runner, "status", "-o", "json").output)["outputs"]["BucketName"]

    result = run(runner, "destroy", "--yes")

    assert result.exit_code == 0, result.output
    assert f"Kept the images bucket {bucket}" in result.output
    assert "its URLs answer 403" in result.output
    assert f"a new stack adopts it with: resizer deploy -p BucketName={bucket}" in result.output

    again = run(runner, "deploy", "--yes")

    assert again.exit_code == 0, again.output
    assert (
        f"note: the images bucket {bucket}, kept when an earlier stack resizer was destroyed" in again.output
    )
    assert f"resizer deploy -p BucketName={bucket}" in again.output
    assert json.loads(run(runner, "status", "-o", "json").output)["outputs"]["BucketName"] != bucket


def test_a_new_stack_adopts_the_bucket_an_earlier_one_kept(aws, fake_build, runner):
    """-p BucketName=<the kept bucket>: CloudFormation cannot create a bucket that exists, so the new
    stack imports it (an IMPORT change set), then updates it to the full template: the images are
    served again, with the bucket's policy and website configuration back."""
    assert run(runner, "deploy", "--yes", "-p", "Delivery=website").exit_code == 0
    bucket = json.loads(run(runner, "status", "-o", "json").output)["outputs"]["BucketName"]
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"kept")
    assert run(runner, "destroy", "--yes").exit_code == 0
    with pytest.raises(ClientError):  # its public-read policy went with the stack
        s3.get_bucket_policy(Bucket=bucket)
    policies = s3.list_objects_v2(Bucket=bucket)["KeyCount"]

    result = run(runner, "deploy", "--yes", "-p", f"BucketName={bucket}", "-p", "Delivery=website")

    assert result.exit_code == 0, result.output
    assert "Import" in result.output and "ImagesBucket" in result.output
    assert "IMPORT_COMPLETE" in result.output and "UPDATE_COMPLETE" in result.output
    status = json.loads(run(runner, "status", "-o", "json").output)
    assert status["status"] == "UPDATE_COMPLETE"
    assert status["outputs"]["BucketName"] == bucket
    assert s3.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"kept"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == policies
    assert "PublicReadForTheWebsite" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    assert s3.get_bucket_website(Bucket=bucket)["RoutingRules"]
    again = run(runner, "deploy", "--yes", "-p", f"BucketName={bucket}")
    assert again.exit_code == 0 and "No changes" in again.output
