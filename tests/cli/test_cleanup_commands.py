"""The cleanup function in `resizer status`, `logs` (--function, --follow) and `metrics`, against moto
in process; stacks made by templates older than the cleanup show the resize function alone."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.commands import logs as logs_command
from localcloud import log_filter
from localcloud import metrics as local_metrics
from tests.log_helpers import put_log_lines
from tests.metric_helpers import put_lambda_metrics

RESIZE_GROUP = "/aws/lambda/resizer-resize"
CLEANUP_GROUP = "/aws/lambda/resizer-cleanup"


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def make_stack(outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"ImagesBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "BucketName": {"Value": {"Ref": "ImagesBucket"}},
            **{key: {"Value": value} for key, value in outputs.items()},
        },
    }
    boto3.client("cloudformation").create_stack(StackName="resizer", TemplateBody=json.dumps(template))


@pytest.fixture
def both(aws) -> None:
    """A stack whose outputs name both functions and their log groups (as the template's do)."""
    make_stack(
        {
            "FunctionName": "resizer-resize",
            "LogGroupName": RESIZE_GROUP,
            "CleanupFunctionName": "resizer-cleanup",
            "CleanupLogGroupName": CLEANUP_GROUP,
        }
    )


@pytest.fixture
def older(aws) -> None:
    """A stack made by a template from before the cleanup function: no Cleanup* outputs."""
    make_stack({"FunctionName": "resizer-resize", "LogGroupName": RESIZE_GROUP})


def interleaved() -> datetime:
    """Resize lines at t and t+2 s, cleanup lines at t+1 s: the merge must interleave them."""
    t = datetime.now(UTC) - timedelta(minutes=2)
    put_log_lines(RESIZE_GROUP, "START RequestId: 11111111-aaaa", "resize one", at=t)
    put_log_lines(
        CLEANUP_GROUP,
        '{"level": "ERROR", "message": "cleanup failed", "key": "cat.jpg"}',
        at=t + timedelta(seconds=1),
    )
    put_log_lines(RESIZE_GROUP, "resize two", at=t + timedelta(seconds=2), stream="2026/12/01/[$LATEST]def")
    return t


# --- status ---------------------------------------------------------------------------------------


def test_status_shows_the_cleanup_function_and_its_rule(aws, fake_build, runner) -> None:
    assert run(runner, "deploy", "--yes").exit_code == 0

    data = json.loads(run(runner, "status", "-o", "json").stdout)
    text = run(runner, "status")

    assert data["function"]["name"] == "resizer-resize"
    assert data["cleanup"]["name"] == "resizer-cleanup" and data["cleanup"]["memory_mb"] == 256
    assert data["cleanup"]["last_modified"]
    assert data["outputs"]["CleanupFunctionName"] == "resizer-cleanup"
    assert data["outputs"]["CleanupLogGroupName"] == CLEANUP_GROUP
    rule = data["cleanup_rule"]
    assert (
        rule["name"] == data["outputs"]["CleanupRuleName"] and rule["state"] == "ENABLED" and rule["enabled"]
    )
    assert text.exit_code == 0, text.output
    assert "Function (resize)" in text.stdout and "Function (cleanup)" in text.stdout
    assert "Cleanup rule (EventBridge)" in text.stdout and "ENABLED" in text.stdout

    boto3.client("events").disable_rule(Name=rule["name"])
    disabled = run(runner, "status")
    assert json.loads(run(runner, "status", "-o", "json").stdout)["cleanup_rule"]["enabled"] is False
    assert (
        "DISABLED" in disabled.stdout
        and "resized images of changed originals are not deleted" in disabled.stdout
    )


def test_status_of_a_stack_without_a_cleanup_shows_none_and_no_error(older, runner) -> None:
    data = run(runner, "status", "-o", "json")
    text = run(runner, "status")

    assert data.exit_code == 0 and text.exit_code == 0, text.output
    body = json.loads(data.stdout)
    assert body["cleanup"] is None and body["cleanup_rule"] is None
    assert "cleanup" not in text.stdout.lower() and text.stderr == ""


# --- logs -----------------------------------------------------------------------------------------


def test_logs_interleave_both_functions_and_name_each_line(both, runner) -> None:
    interleaved()

    everything = json_lines(run(runner, "logs", "--since", "10m", "-o", "json").stdout)
    cleanup = json_lines(run(runner, "logs", "--since", "10m", "--function", "cleanup", "-o", "json").stdout)
    resize = json_lines(run(runner, "logs", "--since", "10m", "--function", "resize", "-o", "json").stdout)
    text = run(runner, "logs", "--since", "10m", "--no-group")

    assert [(e["function"], e["message"][:12]) for e in everything] == [
        ("resize", "START Reques"),
        ("resize", "resize one"),
        ("cleanup", '{"level": "E'),
        ("resize", "resize two"),
    ]
    assert [e["function"] for e in cleanup] == ["cleanup"] and cleanup[0]["level"] == "ERROR"
    assert [e["message"] for e in resize] == ["START RequestId: 11111111-aaaa", "resize one", "resize two"]
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert any(" cleanup " in line for line in lines) and any(" resize " in line for line in lines)


def test_logs_of_a_stack_without_a_cleanup(older, runner) -> None:
    put_log_lines(RESIZE_GROUP, "resize only", at=datetime.now(UTC) - timedelta(minutes=1))

    everything = run(runner, "logs", "--since", "10m", "-o", "json")
    cleanup = run(runner, "logs", "--function", "cleanup")

    assert [(e["function"], e["message"]) for e in json_lines(everything.stdout)] == [
        ("resize", "resize only")
    ]
    assert (
        cleanup.exit_code == 2
        and "no cleanup function" in cleanup.stderr
        and "resizer deploy" in cleanup.stderr
    )
    assert "Traceback" not in cleanup.output


def test_logs_refuse_an_unknown_function(both, runner) -> None:
    result = run(runner, "logs", "--function", "thumbnailer")
    assert result.exit_code == 2 and "thumbnailer" in result.output and "cleanup" in result.output


def test_logs_of_functions_that_never_ran_name_both_groups(both, runner) -> None:
    result = run(runner, "logs")
    assert result.exit_code == 0 and result.stdout == ""
    assert RESIZE_GROUP in result.stderr and CLEANUP_GROUP in result.stderr


def test_logs_follow_tails_both_functions(both, runner, monkeypatch) -> None:
    """--follow on moto: no endpoint URL, so a live tail over both groups (the local cloud's
    StartLiveTail), then polling; every line once, each naming its function."""
    ours = not log_filter._patches.active  # another test's install is left as it is
    if ours:
        log_filter.install()
    interleaved()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:  # a line written while following, in the cleanup's group
            put_log_lines(
                CLEANUP_GROUP, "late cleanup line", at=datetime.now(UTC), stream="2026/12/01/[$LATEST]new"
            )
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(logs_command.time, "sleep", sleep)
    try:
        result = run(runner, "logs", "--follow", "--since", "10m", "-o", "json")
    finally:
        if ours:
            log_filter.uninstall()

    assert result.exit_code == 130, result.output
    seen = [(e["function"], e["message"]) for e in json_lines(result.stdout)]
    assert seen[-1] == ("cleanup", "late cleanup line")
    assert {f for f, _ in seen} == {"resize", "cleanup"} and len(seen) == len(set(seen)) == 5


# --- metrics --------------------------------------------------------------------------------------


def test_metrics_show_the_cleanups_invocations_and_errors(both, runner) -> None:
    local_metrics.install()
    try:
        at = datetime.now(UTC) - timedelta(minutes=5)
        put_lambda_metrics("resizer-resize", at, Invocations=4.0, Errors=1.0)
        put_lambda_metrics("resizer-cleanup", at, Invocations=2.0, Errors=1.0)
        data = json.loads(run(runner, "metrics", "--since", "1h", "--period", "300", "-o", "json").stdout)
        text = run(runner, "metrics", "--since", "1h", "--period", "300")
    finally:
        local_metrics.uninstall()

    series = {s["key"]: s["summary"] for s in data["series"]}
    assert data["cleanup_function"] == "resizer-cleanup"
    assert (series["invocations"], series["errors"]) == (4.0, 1.0)
    assert (series["cleanup_invocations"], series["cleanup_errors"]) == (2.0, 1.0)
    assert data["error_rate"] == 25.0 and data["cleanup_error_rate"] == 50.0
    assert text.exit_code == 0, text.output
    assert "resizer-cleanup" in text.stdout and "cleanup error rate: 50.00 %" in text.stdout
    assert any(line.startswith("Cleanup invocations") for line in text.stdout.splitlines())


def test_metrics_of_a_stack_without_a_cleanup(older, runner) -> None:
    data = json.loads(run(runner, "metrics", "--since", "1h", "-o", "json").stdout)
    text = run(runner, "metrics", "--since", "1h")

    assert data["cleanup_function"] == "" and data["cleanup_error_rate"] is None
    assert not [s for s in data["series"] if s["key"].startswith("cleanup_")]
    assert text.exit_code == 0 and "cleanup" not in text.stdout.lower()
