"""End to end against a real local-cloud server process: the same template, zip and boto3 calls
as on AWS, requests through the website and the API stage, the AWS CLI, a restart, and a load."""

import base64
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import local
from operations.aws import Clients
from tests import stack_outputs
from tests.resizer_function.images import encoded, marked

# These tests follow the website delivery; the cdn one (the default) is tests/localcloud/test_cdn_e2e.py.
# What holds on AWS too (API errors, the log group's lines) is in tests/e2e, which `make test-aws`
# also runs against a real account.
WEBSITE = {"Delivery": "website"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """A local cloud with the stack deployed by `resizer up`'s own provisioning, and its outputs."""
    cache = tmp_path_factory.mktemp("resizer-cache")
    os.environ["RESIZER_CACHE_DIR"] = str(cache)
    with local_cloud(tmp_path_factory.mktemp("local"), free_port()) as url:
        ready = [
            e
            for e in local.provision(url, parameters=WEBSITE, sleep=lambda s: None)
            if isinstance(e, local.Ready)
        ][-1]
        yield ready


def client(cloud, service: str):
    return Clients.for_local_cloud(cloud.endpoint_url).client(service, retries=False)


def fetch(url: str) -> tuple[int, Any, bytes, str]:
    """GET following redirects (as a browser does): status, headers, body, final URL."""
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            return reply.status, reply.headers, reply.read(), reply.url
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), url


def test_outputs_are_loopback_urls(cloud):
    assert cloud.outputs["WebsiteUrl"].startswith(cloud.endpoint_url + "/")
    assert cloud.outputs["ApiUrl"].startswith(cloud.endpoint_url + "/")
    assert set(cloud.outputs) == stack_outputs.WEBSITE


def test_a_miss_is_resized_stored_and_redirected_then_a_plain_hit(cloud):
    url = f"{cloud.outputs['WebsiteUrl']}/300x200/sample.jpg"
    status, headers, body, final = fetch(url)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body)).size == (300, 200)
    assert final == url, "the redirects end on the stored object at the same URL"
    stored = client(cloud, "s3").head_object(Bucket=cloud.outputs["BucketName"], Key="300x200/sample.jpg")
    source = client(cloud, "s3").head_object(Bucket=cloud.outputs["BucketName"], Key="sample.jpg")
    assert stored["Metadata"]["source-etag"] == source["ETag"].strip('"')
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    hit = urllib.request.Request(url, method="GET")
    opener = urllib.request.build_opener(NoRedirects())
    with opener.open(hit, timeout=30) as reply:
        assert reply.status == 200 and reply.headers["Cache-Control"].endswith("immutable")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_missing_size_redirects_through_the_routing_rule_to_the_api(cloud):
    opener = urllib.request.build_opener(NoRedirects())
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"{cloud.outputs['WebsiteUrl']}/120x/sample.jpg", timeout=30)
    assert redirect.value.code == 307
    assert redirect.value.headers["Location"] == f"{cloud.outputs['ApiUrl']}/120x/sample.jpg"


@pytest.fixture(scope="module")
def toy(cloud):
    """A second, tiny function created through the Lambda API, for timeouts and errors."""
    code = (
        "import time\n"
        "def handler(event, context):\n"
        "    print('got', event)\n"
        "    if event.get('sleep'):\n"
        "        time.sleep(event['sleep'])\n"
        "    if event.get('fail'):\n"
        "        raise RuntimeError('it failed')\n"
        "    return {'ok': True}\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("toy.py", code)
    role = client(cloud, "iam").create_role(RoleName="toy", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client(cloud, "lambda").create_function(
        FunctionName="toy",
        Runtime="python3.12",
        Role=role,
        Handler="toy.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=1,
    )
    return "toy"


def test_invoke_returns_the_payload_and_a_log_tail(cloud, toy):
    reply = client(cloud, "lambda").invoke(FunctionName=toy, Payload=b'{"a": 1}', LogType="Tail")
    assert json.loads(reply["Payload"].read()) == {"ok": True} and "FunctionError" not in reply
    tail = base64.b64decode(reply["LogResult"]).decode()
    assert "got {'a': 1}" in tail and "REPORT RequestId: " in tail


def test_an_unhandled_error_is_reported_as_lambda_does(cloud, toy):
    reply = client(cloud, "lambda").invoke(FunctionName=toy, Payload=b'{"fail": true}')
    assert reply["FunctionError"] == "Unhandled"
    payload = json.loads(reply["Payload"].read())
    assert payload["errorType"] == "RuntimeError" and payload["errorMessage"] == "it failed"


def test_the_timeout_is_enforced(cloud, toy):
    started = time.monotonic()
    reply = client(cloud, "lambda").invoke(FunctionName=toy, Payload=b'{"sleep": 5}', LogType="Tail")
    assert time.monotonic() - started < 4
    assert reply["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in json.loads(reply["Payload"].read())["errorMessage"]
    assert "Task timed out after 1.00 seconds" in base64.b64decode(reply["LogResult"]).decode()
    again = client(cloud, "lambda").invoke(FunctionName=toy, Payload=b"{}")
    assert json.loads(again["Payload"].read()) == {"ok": True}, "a fresh worker replaces the killed one"


def test_reserved_concurrency_throttles(cloud, toy):
    lam = client(cloud, "lambda")
    lam.put_function_concurrency(FunctionName=toy, ReservedConcurrentExecutions=0)
    try:
        with pytest.raises(ClientError) as throttled:
            lam.invoke(FunctionName=toy, Payload=b"{}")
        assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        lam.delete_function_concurrency(FunctionName=toy)


def test_the_aws_cli_works_against_the_endpoint(cloud):
    aws = Path(sys.executable).parent / "aws"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    base = [str(aws), "--endpoint-url", cloud.endpoint_url]
    listing = subprocess.run(
        [*base, "s3", "ls", f"s3://{cloud.outputs['BucketName']}"], capture_output=True, text=True, env=env
    )
    assert listing.returncode == 0, listing.stderr
    assert "sample.jpg" in listing.stdout
    stacks = subprocess.run(
        [*base, "cloudformation", "describe-stacks", "--stack-name", "resizer", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert stacks.returncode == 0, stacks.stderr
    assert json.loads(stacks.stdout)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_bounded_load_mixes_hits_misses_and_simultaneous_first_requests(cloud):
    s3 = client(cloud, "s3")
    bucket = cloud.outputs["BucketName"]
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"load/{index}.png", Body=encoded(marked(900, 600), "PNG"))
    rng = random.Random(7)
    sizes = ["100x100", "200x", "x150", "160x90,inside", "240x240,contain,webp", "80x60,fill", "320x"]
    urls = [f"{cloud.outputs['WebsiteUrl']}/120x120/load/0.png"] * 16  # 16 at once for one new size
    urls += [
        f"{cloud.outputs['WebsiteUrl']}/{rng.choice(sizes)}/load/{rng.randrange(3)}.png" for _ in range(184)
    ]
    reports_before = _reports(cloud)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(fetch, urls))
    statuses = [status for status, *_ in results]
    assert all(status == 200 for status in statuses), sorted(set(statuses))
    for _, _, body, _ in results:
        im = Image.open(io.BytesIO(body))
        im.load()  # intact, whole images only
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="")["Contents"]}
    assert "120x120/load/0.png" in keys
    reports = _reports(cloud)[len(reports_before) :]
    cold = [r for r in reports if "Init Duration" in r]
    assert reports and len(cold) <= 16 < len(reports), "warm workers are reused across requests"


def _reports(cloud) -> list[str]:
    logs = client(cloud, "logs")
    found, token = [], None
    while True:
        page = logs.filter_log_events(
            logGroupName=cloud.outputs["LogGroupName"],
            filterPattern="REPORT",
            **({"nextToken": token} if token else {}),
        )
        found += [e["message"] for e in page["events"] if e["message"].startswith("REPORT")]
        token = page.get("nextToken")
        if not token:
            return found


def test_a_restart_keeps_the_stack_and_the_images(tmp_path_factory):
    data = tmp_path_factory.mktemp("restart")
    port = free_port()
    with local_cloud(data, port) as url:
        ready = [
            e
            for e in local.provision(url, parameters=WEBSITE, sleep=lambda s: None)
            if isinstance(e, local.Ready)
        ][-1]
        status, *_ = fetch(f"{ready.outputs['WebsiteUrl']}/50x/sample.jpg")
        assert status == 200
    with local_cloud(data, port) as url:
        cfn = Clients.for_local_cloud(url).client("cloudformation")
        assert cfn.describe_stacks(StackName="resizer")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        opener = urllib.request.build_opener(NoRedirects())
        with opener.open(f"{ready.outputs['WebsiteUrl']}/50x/sample.jpg", timeout=30) as reply:
            assert reply.status == 200 and Image.open(io.BytesIO(reply.read())).width == 50
        events = list(local.provision(url, parameters=WEBSITE, sleep=lambda s: None))
        plan = next(e for e in events if hasattr(e, "no_changes"))
        assert plan.no_changes, "an unchanged stack is not redeployed after a restart"
    shutil.rmtree(data)


def test_a_web_page_cannot_write_into_a_bucket(cloud):
    bucket = cloud.outputs["BucketName"]
    forged = urllib.request.Request(
        f"{cloud.endpoint_url}/{bucket}/planted.html",
        data=b"<script>alert(1)</script>",
        method="PUT",
        headers={"Origin": "https://evil.example", "Content-Type": "text/html"},
    )
    status, _, body, _ = fetch_request(forged)
    assert status == 403 and b"web pages" in body
    unsigned = urllib.request.Request(f"{cloud.endpoint_url}/{bucket}/planted.html", data=b"x", method="PUT")
    assert fetch_request(unsigned)[0] == 403
    keys = {o["Key"] for o in client(cloud, "s3").list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert "planted.html" not in keys


def fetch_request(request: urllib.request.Request) -> tuple[int, Any, bytes, str]:
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers, reply.read(), reply.url
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), request.full_url


def test_a_function_that_outgrows_its_memory_is_killed_as_lambda_does(cloud):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "hog.py", "def handler(event, context):\n    data = b'x' * (300 << 20)\n    return len(data)\n"
        )
    lam = client(cloud, "lambda")
    role = client(cloud, "iam").create_role(RoleName="hog", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName="hog",
        Runtime="python3.12",
        Role=role,
        Handler="hog.handler",
        Code={"ZipFile": buffer.getvalue()},
        MemorySize=128,
    )
    reply = lam.invoke(FunctionName="hog", Payload=b"{}", LogType="Tail")
    assert reply["FunctionError"] == "Unhandled"
    assert json.loads(reply["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
    tail = base64.b64decode(reply["LogResult"]).decode()
    assert "Runtime.OutOfMemory" in tail and "Memory Size: 128 MB" in tail
