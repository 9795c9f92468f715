"""`resizer images`, `logs`, `metrics` and `invoke` through the Typer app, against moto in process with
the local cloud's CloudFormation fidelity (tests/cli/conftest.py); the rendering of log lines.

The module shares one moto world and one small stack named ``resizer`` (``shared_stack``); a test
starts from its empty bucket (``bucket``), and the tests that write log lines or metrics do so on
stacks of their own, so no test sees another's data whatever the order.
"""

import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from PIL import Image
from rich.console import Console

from cli.app import app
from cli.commands import log_lines
from localcloud import metrics as local_metrics
from operations import invoke as invoke_op
from operations.invoke import InvokeResult
from operations.logs import LogEvent, Report, RequestLog
from tests.log_helpers import put_log_lines

REQUEST_ID = "6c2b1a3e-9d8f-4e7a-8b6c-5d4e3f2a1b0c"


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def png(width: int = 3, height: int = 2) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def small_stack(name: str) -> dict[str, str]:
    """A small stack with the outputs the function commands read: a bucket, a function name and its
    log group (which exists, as a deployed stack's does)."""
    template = {
        "Resources": {
            "ImagesBucket": {"Type": "AWS::S3::Bucket"},
            "FunctionLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/lambda/{name}-resize"},
            },
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "ImagesBucket"}},
            "FunctionName": {"Value": f"{name}-resize"},
            "LogGroupName": {"Value": f"/aws/lambda/{name}-resize"},
        },
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    outputs = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


@pytest.fixture(scope="module")
def shared_stack(shared_moto) -> dict[str, str]:
    return small_stack("resizer")


@pytest.fixture
def stack(shared_aws, shared_stack) -> dict[str, str]:
    """The module's stack named resizer, from the test's own working directory."""
    return shared_stack


@pytest.fixture
def bucket(stack) -> str:
    """The shared stack's bucket, emptied first: every test starts with no images."""
    s3 = boto3.client("s3")
    for key in s3_keys(stack["BucketName"]):
        s3.delete_object(Bucket=stack["BucketName"], Key=key)
    return stack["BucketName"]


def s3_keys(bucket: str) -> set[str]:
    return {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])}


def put_objects(bucket: str, *keys: str) -> None:
    for key in keys:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"x" * 10, ContentType="image/jpeg")


# --- images ---------------------------------------------------------------------------------------


def test_images_ls(runner, bucket) -> None:
    put_objects(bucket, "cat.jpg", "300x200/cat.jpg", "x600,webp/albums/dog.png")

    result = run(runner, "images", "ls")

    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: cells
        for line in result.stdout.splitlines()
        if (cells := [c.strip() for c in line.split("│")])
    }
    assert rows["cat.jpg"][1] == "10" and rows["cat.jpg"][3] == "original"
    assert rows["300x200/cat.jpg"][3] == "300x200"
    assert rows["x600,webp/albums/dog.png"][3] == "x600,webp"
    datetime.strptime(rows["cat.jpg"][2], "%Y-%m-%d %H:%M")
    assert f"3 object(s) in {bucket}" in result.stderr


def test_images_ls_json_and_kinds(runner, bucket) -> None:
    put_objects(bucket, "cat.jpg", "300x200/cat.jpg", "albums/dog.png")

    everything = run(runner, "images", "ls", "-o", "json")
    derived = run(runner, "-o", "json", "images", "ls", "--kind", "derived")
    originals = run(runner, "images", "ls", "albums/", "--kind", "originals", "--output", "json")

    assert everything.exit_code == derived.exit_code == originals.exit_code == 0
    data = json.loads(everything.stdout)
    assert data["bucket"] == bucket
    assert [i["key"] for i in data["images"]] == ["300x200/cat.jpg", "albums/dog.png", "cat.jpg"]
    first = data["images"][0]
    assert (first["size"], first["derived"], first["spec"]) == (10, True, "300x200")
    datetime.fromisoformat(first["last_modified"])
    assert [i["key"] for i in json.loads(derived.stdout)["images"]] == ["300x200/cat.jpg"]
    assert [i["key"] for i in json.loads(originals.stdout)["images"]] == ["albums/dog.png"]


def test_images_ls_of_an_unknown_kind(runner, bucket) -> None:
    result = run(runner, "images", "ls", "--kind", "thumbnails")
    assert result.exit_code == 2
    assert "kind must be all, originals or derived" in result.stderr and "Traceback" not in result.output


def test_images_ls_without_a_stack(runner, shared_aws) -> None:
    result = run(runner, "images", "ls", "--stack", "never-deployed")
    assert result.exit_code == 6
    assert "stack 'never-deployed' does not exist" in result.stderr


def test_images_put(runner, bucket, tmp_path) -> None:
    (tmp_path / "cat.png").write_bytes(png())

    result = run(runner, "images", "put", "cat.png", "albums/cat.png")
    default_key = run(runner, "images", "put", "cat.png", "-o", "json")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Uploaded albums/cat.png ({len(png()):,} bytes) to {bucket}"
    assert default_key.exit_code == 0, default_key.output
    stored = json.loads(default_key.stdout)
    assert (stored["key"], stored["size"], stored["replaced"]) == ("cat.png", len(png()), False)
    assert s3_keys(bucket) == {"albums/cat.png", "cat.png"}
    head = boto3.client("s3").head_object(Bucket=bucket, Key="albums/cat.png")
    assert head["ContentType"] == "image/png"


def test_images_put_a_camera_jpeg(runner, bucket, tmp_path) -> None:
    # a multi-picture JPEG, as many phones and cameras write them
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (8, 6), "red"), Image.new("RGB", (8, 6), "blue")
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    (tmp_path / "IMG_0001.jpg").write_bytes(buffer.getvalue())
    result = run(runner, "images", "put", "IMG_0001.jpg")
    assert result.exit_code == 0, result.output
    head = boto3.client("s3").head_object(Bucket=bucket, Key="IMG_0001.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_images_put_never_overwrites_unless_asked(runner, bucket, tmp_path) -> None:
    (tmp_path / "a.png").write_bytes(png(3, 2))
    (tmp_path / "b.png").write_bytes(png(5, 5))
    assert run(runner, "images", "put", "a.png", "cat.png").exit_code == 0

    refused = run(runner, "images", "put", "b.png", "cat.png")
    replaced = run(runner, "images", "put", "b.png", "cat.png", "--overwrite")

    assert refused.exit_code == 1
    assert "'cat.png' already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert replaced.exit_code == 0, replaced.output
    body = boto3.client("s3").get_object(Bucket=bucket, Key="cat.png")["Body"].read()
    assert Image.open(io.BytesIO(body)).size == (5, 5)


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        (b"I am not an image", "notes.png", "is not a JPEG, PNG, WebP, GIF, TIFF, BMP"),
        (None, "300x200/cat.png", "is in the resized namespace"),
        (None, "a/../cat.png", "'.', '..' or control characters"),
    ],
)
def test_images_put_refusals(runner, bucket, tmp_path, content, key, message) -> None:
    (tmp_path / "file").write_bytes(content if content is not None else png())
    result = run(runner, "images", "put", "file", key)
    assert result.exit_code == 2
    assert message in result.stderr
    assert s3_keys(bucket) == set()


def test_images_put_a_missing_file(runner, bucket) -> None:
    result = run(runner, "images", "put", "nothing-here.png")
    assert result.exit_code == 2
    assert "cannot read nothing-here.png" in result.stderr


def test_images_get(runner, bucket, tmp_path) -> None:
    boto3.client("s3").put_object(
        Bucket=bucket, Key="300x200/albums/cat.png", Body=png(), ContentType="image/png"
    )

    to_file = run(runner, "images", "get", "300x200/albums/cat.png", "thumb.png")
    default = run(runner, "images", "get", "300x200/albums/cat.png", "-o", "json")

    assert to_file.exit_code == 0, to_file.output
    assert to_file.stdout.strip() == f"Wrote thumb.png ({len(png()):,} bytes, image/png)"
    assert (tmp_path / "thumb.png").read_bytes() == png()
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout) == {
        "key": "300x200/albums/cat.png",
        "file": "cat.png",
        "bytes": len(png()),
        "content_type": "image/png",
    }
    assert (tmp_path / "cat.png").read_bytes() == png()


def test_images_get_a_missing_key(runner, bucket, tmp_path) -> None:
    result = run(runner, "images", "get", "nothing.png")
    assert result.exit_code == 6
    assert f"no object 'nothing.png' in {bucket}" in result.stderr
    assert not (tmp_path / "nothing.png").exists()


def test_images_rm(runner, bucket) -> None:
    put_objects(bucket, "cat.jpg", "dog.jpg", "300x200/cat.jpg")

    text = run(runner, "images", "rm", "cat.jpg")
    as_json = run(runner, "images", "rm", "dog.jpg", "-o", "json")
    missing = run(runner, "images", "rm", "cat.jpg")

    assert text.exit_code == 0 and text.stdout.strip() == "Deleted cat.jpg and 1 derived image(s)"
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {
        "deleted": "dog.jpg",
        "derived": [],
        "invalidation": None,
        "not_invalidated": "not served through a CDN",
    }
    assert missing.exit_code == 6 and "no object 'cat.jpg'" in missing.stderr
    assert s3_keys(bucket) == set(), "the derived size went with its original"


def test_images_purge(runner, bucket) -> None:
    put_objects(
        bucket, "cat.jpg", "300x200/cat.jpg", "300x200/a/dog.jpg", "300x200,webp/cat.jpg", "100x/cat.jpg"
    )

    text = run(runner, "images", "purge", "300x200")
    as_json = run(runner, "images", "purge", "300x200,webp", "-o", "json")
    again = run(runner, "images", "purge", "300x200")

    assert text.exit_code == 0 and text.stdout.strip() == "Purged 2 object(s) of size 300x200"
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {
        "spec": "300x200,webp",
        "stale": False,
        "deleted": 1,
        "keys": ["300x200,webp/cat.jpg"],
        "derived": ["300x200,webp/cat.jpg"],
        "invalidation": None,
        "not_invalidated": "not served through a CDN",
    }
    assert again.exit_code == 0 and "Purged 0 object(s)" in again.stdout
    assert s3_keys(bucket) == {"cat.jpg", "100x/cat.jpg"}


def test_images_purge_a_non_canonical_spec(runner, bucket) -> None:
    put_objects(bucket, "300x200,q70,webp/cat.jpg")
    result = run(runner, "images", "purge", "300x200,webp,q70")
    assert result.exit_code == 2
    assert "not how that size is written" in result.stderr and "use 300x200,q70,webp" in result.stderr
    assert s3_keys(bucket) == {"300x200,q70,webp/cat.jpg"}


def test_images_purge_refuses_an_original(runner, bucket) -> None:
    put_objects(bucket, "cat.jpg")
    result = run(runner, "images", "purge", "cat.jpg")
    assert result.exit_code == 2 and "is not a size spec" in result.stderr
    assert s3_keys(bucket) == {"cat.jpg"}


def test_images_help_lists_the_subcommands(runner) -> None:
    result = run(runner, "images", "--help")
    assert result.exit_code == 0
    for name in ("ls", "put", "get", "rm", "purge"):
        assert name in result.output


# --- logs -----------------------------------------------------------------------------------------


def test_logs_of_a_function_that_never_ran(runner, stack) -> None:
    text = run(runner, "logs")
    as_json = run(runner, "logs", "--since", "1h", "-o", "json")

    assert text.exit_code == 0, text.output
    assert "no log lines in /aws/lambda/resizer-resize" in text.stderr
    assert text.stdout == ""
    assert as_json.exit_code == 0, as_json.output
    assert as_json.stdout == ""


def request_lines(request_id: str, status: int) -> list[str]:
    record = {"request_id": request_id, "path": "/300x200/a.jpg", "status": status, "_aws": {"Timestamp": 1}}
    return [
        f"START RequestId: {request_id} Version: $LATEST",
        json.dumps(record),
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 80 MB\t",
    ]


def test_logs_text_and_json(runner, shared_aws) -> None:
    put_log_lines(
        small_stack("chatty")["LogGroupName"],
        *request_lines(REQUEST_ID, 302),
        at=datetime.now(UTC) - timedelta(minutes=1),
        stream="2026/03/14/[$LATEST]abc",
    )

    text = run(runner, "logs", "--since", "10m", "--stack", "chatty")
    as_json = run(runner, "logs", "--since", "10m", "-o", "json", "--stack", "chatty")
    filtered = run(runner, "logs", "--since", "10m", "--filter", "REPORT", "-o", "json", "--stack", "chatty")
    too_early = run(runner, "logs", "--since", "1h", "--until", "30m", "-o", "json", "--stack", "chatty")

    assert text.exit_code == 0, text.output
    assert f"START RequestId: {REQUEST_ID}" in text.stdout and "Duration: 12.50 ms" in text.stdout
    assert '"status": 302' in text.stdout, "the request's JSON line, pretty-printed"
    assert '"_aws"' not in text.stdout
    assert as_json.exit_code == 0, as_json.output
    events = json_lines(as_json.stdout)
    assert [e["message"] for e in events] == request_lines(REQUEST_ID, 302)
    assert events[1]["json"]["status"] == 302 and events[0]["json"] is None
    assert events[0]["stream"] == "2026/03/14/[$LATEST]abc" and events[0]["event_id"]
    datetime.fromisoformat(events[0]["timestamp"])
    assert [e["message"] for e in json_lines(filtered.stdout)] == [request_lines(REQUEST_ID, 302)[-1]]
    assert too_early.exit_code == 0 and too_early.stdout == ""


def test_logs_with_a_bad_time_is_a_config_error(runner, stack) -> None:
    result = run(runner, "logs", "--since", "yesterday")
    assert result.exit_code == 2
    assert "cannot read the time 'yesterday'" in result.stderr


def test_logs_without_a_stack(runner, shared_aws) -> None:
    result = run(runner, "logs", "--stack", "never-deployed")
    assert result.exit_code == 6 and "does not exist" in result.stderr


# --- metrics --------------------------------------------------------------------------------------


def test_metrics_of_a_function_that_never_ran(runner, stack) -> None:
    as_json = run(runner, "metrics", "--since", "1h", "-o", "json")
    text = run(runner, "metrics", "--since", "2h", "--period", "600")

    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["function"] == "resizer-resize" and data["period"] == 120
    series = {s["key"]: s for s in data["series"]}
    assert series["invocations"]["summary"] == 0.0 and series["invocations"]["values"] == []
    assert series["duration_p99"]["summary"] is None
    assert data["error_rate"] is None
    assert text.exit_code == 0, text.output
    assert "resizer-resize" in text.stdout and "600 s per point" in text.stdout
    assert "Invocations" in text.stdout and "Duration p99" in text.stdout
    assert "error rate: -" in text.stdout


def test_metrics_with_data(runner, shared_aws) -> None:
    small_stack("busy")
    local_metrics.install()
    try:
        cloudwatch = boto3.client("cloudwatch")
        at = datetime.now(UTC) - timedelta(minutes=5)
        dims = [{"Name": "FunctionName", "Value": "busy-resize"}]
        for name, values, unit in (
            ("Invocations", [1.0, 1.0, 1.0, 1.0], "Count"),
            ("Errors", [0.0, 1.0, 0.0, 0.0], "Count"),
            ("Duration", [10.0, 20.0, 30.0, 400.0], "Milliseconds"),
        ):
            cloudwatch.put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {"MetricName": name, "Dimensions": dims, "Values": values, "Unit": unit, "Timestamp": at}
                ],
            )
        cloudwatch.put_metric_data(  # the function's EMF: two of the four calls were answered 500
            Namespace="Resizer",
            MetricData=[
                {
                    "MetricName": "Errors",
                    "Dimensions": [*dims, {"Name": "ErrorCode", "Value": "internal_error"}],
                    "Values": [1.0, 1.0],
                    "Unit": "Count",
                    "Timestamp": at,
                }
            ],
        )
        as_json = run(runner, "metrics", "--since", "1h", "--period", "300", "-o", "json", "--stack", "busy")
        text = run(runner, "metrics", "--since", "1h", "--period", "300", "--stack", "busy")
    finally:
        local_metrics.uninstall()

    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    series = {s["key"]: s for s in data["series"]}
    assert series["invocations"]["summary"] == 4.0
    assert series["duration_p99"]["summary"] == 400.0 and series["duration_max"]["summary"] == 400.0
    assert data["error_rate"] == 25.0 and data["server_error_rate"] == 50.0
    assert text.exit_code == 0, text.output
    assert "error rate: 25.00 % Lambda errors (crashes, timeouts), 50.00 % 5xx answers" in text.stdout
    row = next(line for line in text.stdout.splitlines() if line.startswith("Duration p99"))
    assert "400.0 ms" in row


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--period", "90"], "whole number of minutes"), (["--since", "soon"], "cannot read the time")],
)
def test_metrics_refusals(runner, stack, args, message) -> None:
    result = run(runner, "metrics", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_metrics_watch_refreshes_until_interrupted(runner, stack, monkeypatch) -> None:
    from cli.commands import metrics as metrics_command

    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(metrics_command.time, "sleep", sleep)
    result = run(runner, "metrics", "--watch", "--since", "1h", "--period", "300", "-o", "json")
    assert result.exit_code == 130 and result.stderr == "", "Ctrl-C ends quietly"
    assert len(json_lines(result.stdout)) == 2, "one report per refresh"
    assert sleeps == [60, 60]


def test_metrics_until_before_since(runner, stack) -> None:
    result = run(runner, "metrics", "--since", "1h", "--until", "2h")
    assert result.exit_code == 2 and "the window is empty" in result.stderr


# --- invoke: where the payload comes from (the invocation itself is in the e2e tests) -------------


@pytest.fixture
def invoked(monkeypatch, stack) -> list[dict]:
    """Replace the invocation with a canned answer and record what it was asked."""
    calls: list[dict] = []

    def fake_invoke(clients, function, payload, *, log_group=None, **kwargs):
        calls.append({"function": function, "payload": payload, "log_group": log_group})
        body = {
            "statusCode": 404,
            "headers": {"Content-Type": "application/json"},
            "body": '{"error": "not_found"}',
        }
        report = Report(12.5, 13.0, 1024.0, 80.0, 250.0)
        lines = [LogEvent(datetime.now(UTC), m) for m in request_lines(REQUEST_ID, 404)]
        return InvokeResult(REQUEST_ID, None, json.dumps(body).encode(), report, lines, "")

    monkeypatch.setattr(invoke_op, "invoke", fake_invoke)
    return calls


def test_invoke_payload_from_an_argument(runner, invoked) -> None:
    result = run(runner, "invoke", '{"path": "/a"}')
    assert result.exit_code == 1, result.output  # the canned answer is a 404
    assert invoked == [
        {
            "function": "resizer-resize",
            "payload": b'{"path": "/a"}',
            "log_group": "/aws/lambda/resizer-resize",
        }
    ]
    assert f"Request {REQUEST_ID}  OK" in result.stdout
    assert (
        "HTTP 404" in result.stdout
        and "12.50 ms" in result.stdout
        and "250.00 ms (cold start)" in result.stdout
    )


def test_invoke_payload_from_a_file(runner, invoked, tmp_path) -> None:
    (tmp_path / "event.json").write_bytes(b'{"from": "file"}')
    result = run(runner, "invoke", "@event.json", "-o", "json")
    assert result.exit_code == 1, result.output  # the canned answer is a 404
    assert invoked[0]["payload"] == b'{"from": "file"}'
    data = json.loads(result.stdout)
    assert data["request_id"] == REQUEST_ID and data["http"]["status"] == 404
    assert data["report"]["duration_ms"] == 12.5 and data["report"]["init_ms"] == 250.0
    assert [line["message"] for line in data["logs"]] == request_lines(REQUEST_ID, 404)


@pytest.mark.parametrize("args", [["-"], []])
def test_invoke_payload_from_stdin(runner, invoked, args) -> None:
    result = run(runner, "invoke", *args, input='{"from": "stdin"}')
    assert result.exit_code == 1, result.output  # the canned answer is a 404
    assert invoked[0]["payload"] == b'{"from": "stdin"}'


def test_invoke_another_function(runner, invoked) -> None:
    assert run(runner, "invoke", "{}", "--function", "toy").exit_code == 1  # a 404 answer
    assert invoked[0]["function"] == "toy" and invoked[0]["log_group"] == "/aws/lambda/toy"
    # a named function needs no stack: none is looked up
    assert run(runner, "--stack", "no-such-stack", "invoke", "{}", "--function", "toy").exit_code == 1
    assert invoked[1]["function"] == "toy"


def test_invoke_payload_from_a_missing_file(runner, invoked) -> None:
    result = run(runner, "invoke", "@nothing.json")
    assert result.exit_code == 2 and "cannot read nothing.json" in result.stderr
    assert invoked == []


def test_invoke_save_refuses_a_response_that_is_not_an_image(runner, invoked, tmp_path) -> None:
    result = run(runner, "invoke", "{}", "--save", "out.png")
    assert result.exit_code == 1 and "HTTP 404" in result.stdout, "the error answer is shown, and fails"
    assert not (tmp_path / "out.png").exists()


def test_save_refuses_an_answer_that_is_not_an_image(runner, stack, monkeypatch, tmp_path) -> None:
    body = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    monkeypatch.setattr(
        invoke_op, "invoke", lambda *a, **k: InvokeResult(REQUEST_ID, None, json.dumps(body).encode(), None)
    )
    result = run(runner, "invoke", "{}", "--save", "out.png")
    assert result.exit_code == 2 and "not an image (HTTP 200)" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_invoke_refuses_a_payload_that_is_not_json(runner, stack) -> None:
    # the real operation: refused before anything is invoked (there is no function in this stack)
    result = run(runner, "invoke", "{oops")
    assert result.exit_code == 2 and "the payload is not JSON" in result.stderr


def test_resize_refuses_an_empty_path(runner, stack) -> None:
    result = run(runner, "resize", "/")
    assert result.exit_code == 2 and "300x200/photo.jpg" in result.stderr


# --- log_lines ------------------------------------------------------------------------------------


def rendered(markup: str) -> str:
    console = Console(file=io.StringIO(), width=300, color_system=None, highlight=False, soft_wrap=True)
    console.print(markup)
    return console.file.getvalue()


def log_event(message: str, stream: str = "2026/03/14/[$LATEST]0123456789abcdef") -> LogEvent:
    return LogEvent(datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC), message, stream, "1")


def test_line_of_a_plain_message() -> None:
    text = rendered(log_lines.line(log_event("hello world")))
    assert text == "15:09:26.535 89abcdef hello world\n"
    assert rendered(log_lines.line(log_event("hello"), show_stream=False)) == "15:09:26.535 hello\n"


@pytest.mark.parametrize(
    "message",
    [
        "[bold]x[/]",
        "[/]",
        "[red]unbalanced",
        "a \\[b] c [link=http://evil]x[/link]",
        f"START RequestId: {REQUEST_ID} [bold]x[/]",
        "[ERROR] [bold]x[/] Traceback",
    ],
)
def test_line_never_interprets_markup_in_a_message(message: str) -> None:
    text = rendered(log_lines.line(log_event(message), show_stream=False))
    assert text == f"15:09:26.535 {message}\n"


def test_line_never_interprets_markup_in_a_json_message() -> None:
    message = json.dumps({"level": "error", "message": "[bold]x[/]", "path": "/[/]"})
    text = rendered(log_lines.line(log_event(message), show_stream=False))
    assert '"message": "[bold]x[/]"' in text and '"path": "/[/]"' in text


def test_line_pretty_prints_json_without_the_emf_block() -> None:
    message = json.dumps({"request_id": "r", "status": 404, "ms": {"total": 3.5}, "_aws": {"Timestamp": 1}})
    text = rendered(log_lines.line(log_event(message), show_stream=False))
    body = text.split(" ", 1)[1]
    assert json.loads(body) == {"request_id": "r", "status": 404, "ms": {"total": 3.5}}
    assert '\n  "status": 404,\n' in body, "indented, one member a line"


def test_line_styles() -> None:
    report = log_lines.line(log_event(request_lines(REQUEST_ID, 200)[-1]))
    assert "[bold cyan]REPORT RequestId:" in report
    assert "[cyan]START" in log_lines.line(log_event(request_lines(REQUEST_ID, 200)[0]))
    assert log_lines.line(log_event('{"level": "ERROR", "a": 1}')).count("[red]") == 1
    assert log_lines.line(log_event('{"level": "warning", "a": 1}')).count("[yellow]") == 1
    assert "[red]" in log_lines.line(log_event("[ERROR] boom"))
    assert "[red]" not in log_lines.line(log_event('{"level": "INFO"}'))


def test_request_lines_end_with_a_blank_line() -> None:
    group = RequestLog(REQUEST_ID, [log_event(m) for m in request_lines(REQUEST_ID, 200)])
    out = log_lines.request(group)
    assert len(out) == 5 and out[-1] == ""
    assert out[0] == log_lines.line(group.events[0])


def test_help_of_the_function_commands(runner) -> None:
    for command in ("invoke", "resize", "logs", "metrics"):
        result = run(runner, command, "--help")
        assert result.exit_code == 0 and "Examples" in result.output, command


def test_invoke_save_writes_an_inline_image(runner, stack, monkeypatch, tmp_path) -> None:
    import base64

    image = png(4, 4)
    body = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(image).decode(),
        "isBase64Encoded": True,
    }
    monkeypatch.setattr(
        invoke_op, "invoke", lambda *a, **k: InvokeResult(REQUEST_ID, None, json.dumps(body).encode(), None)
    )
    result = run(runner, "invoke", "{}", "--save", "out.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.png").read_bytes() == image
    assert f"({len(image):,} bytes of image/png)" in result.stdout and "Saved out.png" in result.stdout


def test_invoke_with_a_function_error_exits_1(runner, stack, monkeypatch) -> None:
    payload = json.dumps({"errorMessage": "it failed", "errorType": "RuntimeError"}).encode()
    monkeypatch.setattr(
        invoke_op, "invoke", lambda *a, **k: InvokeResult(REQUEST_ID, "Unhandled", payload, None)
    )
    text = run(runner, "invoke", "{}")
    as_json = run(runner, "invoke", "{}", "-o", "json")
    assert text.exit_code == 1 and "Unhandled" in text.stdout and "it failed" in text.stdout
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["payload"]["errorType"] == "RuntimeError"
    assert json.loads(as_json.stdout)["function_error"] == "Unhandled"


# --- an unreachable endpoint is exit 4 for every new command, as for `status` ---------------------


@pytest.mark.parametrize(
    "args",
    [
        ["logs"],
        ["metrics"],
        ["invoke", "{}"],
        ["resize", "300x200/sample.jpg"],
        ["images", "ls"],
        ["images", "purge", "300x200"],
    ],
    ids=" ".join,
)
def test_an_unreachable_local_cloud_is_exit_4(monkeypatch, runner, tmp_path, args) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("RESIZER_LOCAL_PORT", "9")  # nothing listens there
    monkeypatch.setenv("RESIZER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESIZER_DEBUG", raising=False)  # `--debug` in an earlier test sets it for good
    result = run(runner, *args, "--region", "us-east-1")
    assert result.exit_code == 4, result.output
    assert "cannot reach" in result.stderr and "internal error" not in result.stderr
