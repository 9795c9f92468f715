"""The `resizer` command as a user runs it: a real process against a real local-cloud server with
the stack deployed, real pipes and real signals (Ctrl-C, a reader that stops early)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import local
from operations.aws import LOCAL_CREDENTIALS


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    cache = tmp_path_factory.mktemp("resizer-cache")
    os.environ["RESIZER_CACHE_DIR"] = str(cache)
    with local_cloud(tmp_path_factory.mktemp("local"), free_port()) as url:
        # website delivery: the function redirects to the stored object, which `resize --save` follows
        provisioning = local.provision(url, parameters={"Delivery": "website"}, sleep=lambda s: None)
        ready = [e for e in provisioning if isinstance(e, local.Ready)][-1]
        yield ready


@pytest.fixture
def env(cloud, tmp_path) -> dict[str, str]:
    """A user's environment with no AWS credentials: every command targets the local cloud."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESIZER_"))}
    return {
        **kept,
        "RESIZER_LOCAL_PORT": cloud.endpoint_url.rsplit(":", 1)[1],
        "RESIZER_CACHE_DIR": str(tmp_path / "cache"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "COLUMNS": "200",
    }


def resizer(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli.app import main; main()", *args]


def run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(resizer(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def first_line(process: subprocess.Popen, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            return line
        if process.poll() is not None:
            break
    raise AssertionError(f"no output; stderr: {process.stderr.read() if process.stderr else ''}")


def s3(cloud, region: str = "us-east-1"):
    return boto3.client("s3", endpoint_url=cloud.endpoint_url, region_name=region, **LOCAL_CREDENTIALS)


def test_resize_save_follows_the_redirect_to_the_stored_image(cloud, env, tmp_path) -> None:
    done = run(env, "resize", "250x250,webp/sample.jpg", "--save", "r.webp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "HTTP 302" in done.stdout and "Saved r.webp" in done.stdout
    with Image.open(tmp_path / "r.webp") as saved:
        assert (saved.format, saved.size) == ("WEBP", (250, 250))
    stored = s3(cloud).get_object(Bucket=cloud.outputs["BucketName"], Key="250x250,webp/sample.jpg")
    assert stored["Body"].read() == (tmp_path / "r.webp").read_bytes(), "the stored image, byte for byte"


@pytest.mark.parametrize(("path", "status"), [("300x200/nothing.jpg", 404), ("300x200,jpeg/sample.jpg", 400)])
def test_resize_exits_1_when_the_function_answers_an_error(cloud, env, tmp_path, path, status) -> None:
    done = run(env, "resize", path, "--save", "out.jpg", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"HTTP {status}" in done.stdout
    assert not (tmp_path / "out.jpg").exists()
    as_json = run(env, "resize", path, "-o", "json", cwd=tmp_path)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["http"]["status"] == status


def test_logs_into_a_reader_that_stops_early_ends_quietly(cloud, env, tmp_path) -> None:
    # `resizer logs -o json | head -1`: once the reader has gone, the next write finds no reader.
    run(env, "resize", "120x/sample.jpg", cwd=tmp_path)
    process = subprocess.Popen(
        resizer("logs", "-f", "--since", "1h", "-o", "json"),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        json.loads(first_line(process))
        process.stdout.close()  # head -1 exits
        run(env, "resize", "130x/sample.jpg", cwd=tmp_path)  # new lines for the follower to write
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read()
    assert code == 0 and stderr == "", stderr


@pytest.mark.parametrize("args", [("logs", "-f", "--since", "1h"), ("metrics", "--watch", "--since", "1h")])
def test_ctrl_c_ends_quietly_with_130(cloud, env, tmp_path, args) -> None:
    run(env, "resize", "140x/sample.jpg", cwd=tmp_path)
    process = subprocess.Popen(
        resizer(*args), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first_line(process)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read()
    assert code == 130
    assert "error" not in stderr and "Traceback" not in stderr, stderr


@pytest.mark.parametrize("command", [("status",), ("logs",), ("images", "ls")])
def test_an_unknown_region_is_bad_input_naming_it(cloud, env, tmp_path, command) -> None:
    done = run(env, *command, "--region", "mars-1", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mars-1" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_region_from_the_environment_is_bad_input(cloud, env, tmp_path) -> None:
    done = run({**env, "AWS_REGION": "mars-1"}, "status", cwd=tmp_path)
    assert done.returncode == 2 and "unknown AWS region 'mars-1'" in done.stderr


def test_the_local_cloud_answers_an_unknown_region_as_aws_does(cloud) -> None:
    with pytest.raises(ClientError) as refused:
        s3(cloud, "mars-1").list_buckets()
    assert refused.value.response["Error"]["Code"] == "AuthorizationHeaderMalformed"
    cfn = boto3.client(
        "cloudformation", endpoint_url=cloud.endpoint_url, region_name="mars-1", **LOCAL_CREDENTIALS
    )
    with pytest.raises(ClientError) as refused:
        cfn.describe_stacks()
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "mars-1" in refused.value.response["Error"]["Message"]
    lam = boto3.client("lambda", endpoint_url=cloud.endpoint_url, region_name="mars-1", **LOCAL_CREDENTIALS)
    with pytest.raises(ClientError) as refused:
        lam.list_functions()
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
