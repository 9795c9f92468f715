"""Parity: every `resizer` command has a console feature in /api/features and vice versa, except
the documented CLI-only ones; and for the same state, `resizer … -o json` and the console's JSON
(/api/*, and the JSON answers of its forms) are the same (both come from operations.jsonable)."""

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.app import COMMANDS, load
from cli.app import app as cli_app
from cli.commands import stack_events
from console.features import CLI_ONLY
from console.runs import Run
from operations import invoke as invoke_op
from operations import logs as logs_op
from operations.stack import Settled, StackEvent
from tests.console.conftest import REQUEST_ID, SIGNING_KEY, Browser, png
from tests.log_helpers import put_log_lines


def cli_commands() -> set[str]:
    names = set()
    for entry in COMMANDS:
        subcommands = getattr(load(entry), "commands", {})  # a group: its commands, not itself
        names |= {f"{entry.name} {sub}" for sub in subcommands} if subcommands else {entry.name}
    return names


def test_every_cli_command_has_a_console_feature_and_vice_versa(browser: Browser) -> None:
    data = browser.client.get("/api/features").json()
    console = {feature["cli"] for feature in data["features"]}
    cli = cli_commands()
    assert {"deploy", "status", "images put", "console", "up", "version"} <= cli
    assert set(data["cli_only"]) == set(CLI_ONLY) == {"up", "console"}
    assert cli - set(CLI_ONLY) == console
    assert not console & set(CLI_ONLY)


def test_every_feature_route_is_a_real_route(browser: Browser, app) -> None:
    from fastapi.routing import iter_route_contexts

    routes = {
        (m, c.path) for c in iter_route_contexts(app.routes) for m in getattr(c.original_route, "methods", ())
    }
    for feature in browser.client.get("/api/features").json()["features"]:
        assert (feature["method"], feature["route"]) in routes


# --- the same JSON from both: `resizer … -o json` and the console's /api/* (operations.jsonable) ----


def cli_json(*args: str, stack: str = "resizer", code: int = 0) -> list[Any]:
    """The JSON lines `resizer ARGS --stack STACK -o json` prints, run in this process (the same moto)."""
    result = CliRunner().invoke(cli_app, [*args, "--stack", stack, "-o", "json"])
    assert result.exit_code == code, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def cli_one(*args: str, stack: str = "resizer", code: int = 0) -> Any:
    found = cli_json(*args, stack=stack, code=code)
    assert len(found) == 1, found
    return found[0]


def test_status_is_the_same_json(browser: Browser) -> None:
    api = browser.client.get("/api/status").json()
    assert cli_one("status") == api
    assert api["parameters"].get("SigningKey", "****") == "****" and SIGNING_KEY not in json.dumps(api)
    assert api["parameters"]["SigningKeyParameter"]  # the key is in SSM: the stack names its parameter
    assert api["function"]["name"] == "resizer-resize" and api["delivery"]["mode"] == "website"


def test_images_ls_is_the_same_json(browser: Browser, cloud) -> None:
    everything = browser.client.get("/api/images").json()
    assert cli_one("images", "ls") == everything
    assert {"photos/cat.png", "300x200/photos/cat.png"} <= {i["key"] for i in everything["images"]}
    derived = browser.client.get("/api/images", params={"kind": "derived", "prefix": "300x200/"}).json()
    assert cli_one("images", "ls", "--kind", "derived", "300x200/") == derived
    assert [i["key"] for i in derived["images"]] == ["300x200/photos/cat.png"]
    stale_key = "120x90/parity/gone.png"
    cloud.client("s3").put_object(Bucket=cloud.bucket, Key=stale_key, Body=png(), ContentType="image/png")
    try:
        stale = browser.client.get("/api/images", params={"stale": "true", "prefix": "120x90/parity/"}).json()
        assert cli_one("images", "ls", "--stale", "120x90/parity/") == stale
        assert [(s["image"]["key"], s["reason"]) for s in stale["stale"]] == [(stale_key, "missing")]
    finally:
        cloud.client("s3").delete_object(Bucket=cloud.bucket, Key=stale_key)


def test_metrics_are_the_same_json(browser: Browser) -> None:
    api = browser.client.get("/api/metrics", params={"window": "1h"}).json()
    cli = cli_one("metrics", "--since", "1h")
    moments = [datetime.fromisoformat(body[k]) for body in (api, cli) for k in ("start", "end")]
    assert abs(moments[0] - moments[2]) < timedelta(seconds=60) > abs(moments[1] - moments[3])
    without_window = {"start", "end"}
    assert {k: v for k, v in cli.items() if k not in without_window} == {
        k: v for k, v in api.items() if k not in without_window
    }
    assert api["function"] == "resizer-resize" and {"invocations", "errors"} <= {
        s["key"] for s in api["series"]
    }


def test_logs_are_the_same_json(browser: Browser) -> None:
    api = browser.client.get("/api/logs", params={"since": "1d"}).json()
    assert cli_json("logs", "--since", "1d") == api["events"]
    lines = {e["message"].split(" ")[0]: e for e in api["events"]}
    assert lines["START"]["request_id"] == REQUEST_ID and lines["REPORT"]["level"] == ""
    error = next(e for e in api["events"] if e["json"] and e["json"]["status"] == 500)
    assert error["level"] == "ERROR" and error["json"]["path"] == "/300x200/missing.jpg"
    filtered = browser.client.get("/api/logs", params={"since": "1d", "filter": "REPORT"}).json()
    assert cli_json("logs", "--since", "1d", "--filter", "REPORT") == filtered["events"]
    assert [e["message"][:6] for e in filtered["events"]] == ["REPORT"]
    assert browser.client.get("/api/logs", params={"since": "yesterday-ish"}).status_code == 400


@pytest.mark.parametrize("function", ["all", "resize", "cleanup"])
def test_logs_of_each_function_are_the_same_json(browser: Browser, cloud, function: str) -> None:
    group = "/aws/lambda/resizer-cleanup"
    put_log_lines(
        group,
        "cleaned",
        at=datetime.now(UTC) - timedelta(milliseconds=500),
        stream="parity",
        client=cloud.client("logs"),
        once=True,
    )
    api = browser.client.get("/api/logs", params={"since": "1d", "function": function}).json()
    assert cli_json("logs", "--since", "1d", "--function", function) == api["events"]
    assert {e["function"] for e in api["events"]} == {"all": {"resize", "cleanup"}}.get(function, {function})


def test_status_shows_the_cleanup_the_same(browser: Browser) -> None:
    api = browser.client.get("/api/status").json()
    assert cli_one("status") == api
    assert api["cleanup"]["name"] == "resizer-cleanup" and api["cleanup_rule"]["enabled"] is True


@pytest.fixture
def fixed_invoke(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """operations.invoke.invoke answering one fixed result (moto cannot run the function)."""
    payloads: list[bytes] = []
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def invoke(clients, function, payload, *, log_group=None, full_logs=True, sleep=None):  # type: ignore[no-untyped-def]
        payloads.append(payload if isinstance(payload, bytes) else str(payload).encode())
        proxy = {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(png(4, 4)).decode(),
            "isBase64Encoded": True,
        }
        lines = [
            f"START RequestId: {REQUEST_ID} Version: $LATEST",
            '{"level": "WARN", "message": "slow source", "request_id": "' + REQUEST_ID + '"}',
            f"REPORT RequestId: {REQUEST_ID}\tDuration: 31.50 ms\tBilled Duration: 32 ms",
        ]
        return invoke_op.InvokeResult(
            REQUEST_ID,
            None,
            json.dumps(proxy).encode(),
            logs_op.Report(31.5, 32.0, 1024.0, 90.0, 250.25),
            [logs_op.LogEvent(moment + timedelta(milliseconds=i), m, "s") for i, m in enumerate(lines)],
        )

    monkeypatch.setattr(invoke_op, "invoke", invoke)
    return payloads


def test_invoke_and_resize_are_the_same_json(browser: Browser, fixed_invoke: list[bytes]) -> None:
    api = browser.post("/invoke/run", {"body": '{"hello": "world"}'}).json()
    assert cli_one("invoke", '{"hello": "world"}') == api
    assert json.loads(fixed_invoke[0]) == json.loads(fixed_invoke[1]) == {"hello": "world"}
    assert api["http"] == {
        "status": 200,
        "headers": {"Content-Type": "image/png"},
        "body_bytes": len(png(4, 4)),
        "content_type": "image/png",
    }
    assert [e["level"] for e in api["logs"]] == ["", "WARN", ""]
    assert {e["request_id"] for e in api["logs"]} == {REQUEST_ID}
    resized = browser.post("/invoke/resize", {"path": "300x200/photos/cat.png"}).json()
    assert cli_one("resize", "300x200/photos/cat.png") == resized
    events = [json.loads(p) for p in fixed_invoke[2:]]  # the same event (its requestContext has a time)
    assert [(e["httpMethod"], e["path"]) for e in events] == [("GET", "/300x200/photos/cat.png")] * 2


def test_package_is_the_same_json(browser: Browser) -> None:
    api = browser.post("/deploy/package", {"platform": "x86_64"}).json()
    assert cli_one("package", "--platform", "x86_64") == api
    assert api["platform"] == "x86_64" and api["published"] is None and len(api["sha256"]) == 64


def test_upload_and_delete_are_the_same_json(browser: Browser, cloud, tmp_path: Path) -> None:
    body = png(5, 5)
    source = tmp_path / "parity.png"
    source.write_bytes(body)
    by_cli = cli_one("images", "put", str(source), "parity/cli.png")
    by_console = browser.post(
        "/images/upload",
        files={"file": ("parity.png", body, "image/png")},
        data={"key": "parity/console.png"},
    ).json()
    varying = {"key", "last_modified"}  # the etag is the bytes' MD5: the same
    assert {k: v for k, v in by_cli.items() if k not in varying} == {
        k: v for k, v in by_console.items() if k not in varying
    }
    assert (by_cli["key"], by_console["key"], by_cli["size"]) == (
        "parity/cli.png",
        "parity/console.png",
        len(body),
    )
    for key in ("parity/cli.png", "parity/console.png"):
        cloud.client("s3").put_object(
            Bucket=cloud.bucket, Key=f"40x40/{key}", Body=png(), ContentType="image/png"
        )
    removed_cli = cli_one("images", "rm", "parity/cli.png")
    removed_console = browser.post("/images/delete", {"key": "parity/console.png"}).json()
    assert removed_cli == {
        "deleted": "parity/cli.png",
        "derived": ["40x40/parity/cli.png"],
        "invalidation": None,
        "not_invalidated": removed_console["not_invalidated"],
    }
    assert removed_console == {
        k: (v.replace("cli", "console") if isinstance(v, str) else v) for k, v in removed_cli.items()
    } | {"derived": ["40x40/parity/console.png"]}


def test_stack_events_are_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    """A deploy's events: the CLI's JSON lines and the console's run record (plus its type and time)."""
    failed = StackEvent(
        "e1",
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "Function",
        "AWS::Lambda::Function",
        "CREATE_FAILED",
        "S3 key does not exist",
        "fn",
    )
    settled = Settled("resizer", "ROLLBACK_COMPLETE", failed)
    stack_events.show([failed, settled], True, "")
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    run = Run("r", "deploy", "resizer")
    run.drain(lambda: iter([failed, settled]))
    recorded = run.events
    assert printed[0] == {"event": "stack_event"} | {
        k: v for k, v in recorded[0].items() if k not in ("type", "time", "seq")
    }
    assert printed[0]["failed"] is True and recorded[0]["time"] == printed[0]["timestamp"]
    assert {k: v for k, v in printed[1].items() if k != "event"} == {
        k: v for k, v in recorded[1].items() if k not in ("type", "seq")
    }
    assert printed[1]["root_cause"] == {k: v for k, v in printed[0].items() if k != "event"}
    assert (printed[1]["ok"], printed[1]["status"]) == (False, "ROLLBACK_COMPLETE")


@pytest.fixture
def cdn_stack(cloud, tmp_path: Path) -> Iterator[Any]:
    from tests.console.test_images_cdn import world_of

    yield from world_of(cloud, tmp_path, "cdn")


def test_cdn_status_and_invalidate_are_the_same_json(cdn_stack: Any) -> None:
    browser, stack = cdn_stack.browser, cdn_stack.stack
    api = browser.client.get("/api/cdn").json()
    assert cli_one("cdn", "status", stack=stack) == api
    assert api["id"] == cdn_stack.distribution and api["cdn_url"] == cdn_stack.outputs["CdnUrl"]
    by_cli = cli_one("cdn", "invalidate", "/300x200/a b.jpg", stack=stack)
    by_console = browser.post("/cdn/invalidate", {"paths": "/300x200/a b.jpg"}).json()
    for made in (by_cli, by_console):  # each is its own invalidation: another id and time
        made["invalidation"] |= {"id": "", "created": ""}
    assert by_cli == by_console
    assert by_cli["invalidation"]["paths"] == ["/300x200/a%20b.jpg"]
    after = browser.client.get("/api/cdn").json()
    assert cli_one("cdn", "status", stack=stack) == after and len(after["invalidations"]) == 2


@pytest.fixture
def undeployed(cloud, tmp_path: Path) -> Iterator[Browser]:
    """A console whose stack (parity-plan) is not deployed: each front end plans its creation."""
    from fastapi.testclient import TestClient

    from console.app import create_app
    from tests.console.conftest import settings_for

    with TestClient(create_app(settings_for(cloud, stack="parity-plan", events_dir=tmp_path))) as client:
        yield Browser(client).login()


def test_a_deploy_plan_is_the_same_json(undeployed: Browser) -> None:
    parameters = ["MemorySize=1536", "Delivery=website", f"SigningKey={SIGNING_KEY}"]
    printed = cli_json("deploy", *(a for p in parameters for a in ("-p", p)), stack="parity-plan", code=1)
    assert [line["event"] for line in printed] == ["plan"]  # no terminal to say yes: declined, discarded
    api = undeployed.post("/deploy/plan", {"parameters": "\n".join(parameters)}).json()
    varying = {"change_set_id", "event", "id", "page", "events"}  # each plan is its own change set
    assert {k: v for k, v in printed[0].items() if k not in varying} == {
        k: v for k, v in api.items() if k not in varying
    }
    assert api["change_set_type"] == "CREATE" and api["parameters"]["MemorySize"] == "1536"
    assert SIGNING_KEY not in json.dumps(api) and SIGNING_KEY not in json.dumps(printed)
    undeployed.post(f"/deploy/{api['id']}/discard")
