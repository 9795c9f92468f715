"""Deploy (plan, execute over SSE, discard, no changes, failures), package, and destroy."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from operations import deploy as deploy_op
from operations.errors import DeployFailed
from operations.stack import Settled, StackEvent
from tests.console.conftest import Browser, read_events, settings_for


@pytest.fixture
def fresh(cloud, tmp_path):
    """A browser on a console whose stack is `fresh` (not deployed yet)."""
    with TestClient(create_app(settings_for(cloud, stack="fresh", events_dir=tmp_path))) as client:
        yield Browser(client).login()


def stacks() -> dict[str, str]:
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    return {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}


def test_plan_execute_follow_then_no_changes_then_destroy(fresh: Browser) -> None:
    planned = fresh.post("/deploy/plan", {"parameters": "MemorySize=1536\n# a comment\n\nTimeout=20"})
    assert planned.status_code == 200, planned.text
    plan = planned.json()
    assert plan["change_set_type"] == "CREATE" and not plan["no_changes"]
    assert {"action": "Add", "logical_id": "Function"}.items() <= next(
        c for c in plan["changes"] if c["logical_id"] == "Function"
    ).items()
    page = fresh.page(plan["page"])
    assert "Execute" in page.text and "Discard" in page.text and "AWS::Lambda::Function" in page.text

    started = fresh.post(f"/deploy/{plan['id']}/execute", html=True)
    assert started.status_code == 303 and started.headers["location"] == plan["page"]
    with fresh.client.stream("GET", plan["events"]) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = read_events(stream)
    kinds = [name for name, _ in events]
    assert kinds[-1] == "settled" and kinds.count("settled") == 1 and "stack_event" in kinds
    final = json.loads(events[-1][1])
    assert final["ok"] is True and final["status"] == "CREATE_COMPLETE"
    config = boto3.client("lambda", region_name="us-east-1").get_function_configuration(
        FunctionName="fresh-resize"
    )
    assert (config["MemorySize"], config["Timeout"]) == (1536, 20)
    done = fresh.page(plan["page"])
    assert "Deployed" in done.text and "CREATE_COMPLETE" in done.text and "Execute</button>" not in done.text
    again = fresh.post(f"/deploy/{plan['id']}/execute")  # executing twice starts nothing new
    assert again.status_code == 200 and again.json()["events"] == plan["events"]

    unchanged = fresh.post("/deploy/plan", {"parameters": "MemorySize=1536\nTimeout=20"}, html=True)
    assert unchanged.status_code == 303
    assert "No changes" in fresh.page(unchanged.headers["location"]).text

    outputs = json.loads(fresh.client.get("/api/status").text)["outputs"]
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=outputs["BucketName"], Key="a.png", Body=b"x"
    )
    form = fresh.page("/destroy").text
    assert outputs["BucketName"] in form and "fresh" in form
    wrong = fresh.post("/destroy", {"confirm_stack": "fres"})
    assert wrong.status_code == 400 and "nothing was deleted" in wrong.json()["message"]
    wrong_bucket = fresh.post(
        "/destroy", {"confirm_stack": "fresh", "delete_images": "true", "confirm_bucket": "x"}
    )
    assert wrong_bucket.status_code == 400 and outputs["BucketName"] in wrong_bucket.json()["hint"]
    # From the page's form: the form again with the reason beside the field, not an error page.
    typo = fresh.post("/destroy", {"confirm_stack": "fres"}, html=True)
    assert typo.status_code == 400 and "Bad request" not in typo.text
    assert 'id="confirm_stack"' in typo.text and 'aria-invalid="true"' in typo.text
    assert "the typed stack name does not match: nothing was deleted (type fresh)" in typo.text
    typo_bucket = fresh.post(
        "/destroy", {"confirm_stack": "fresh", "delete_images": "true", "confirm_bucket": "x"}, html=True
    )
    assert typo_bucket.status_code == 400 and outputs["BucketName"] in typo_bucket.text
    assert (
        'id="delete_images" name="delete_images" value="true" data-toggles="bucket-confirm" checked'
        in typo_bucket.text
    )
    assert stacks()["fresh"] == "CREATE_COMPLETE"

    destroying = fresh.post("/destroy", {"confirm_stack": "fresh"}, html=True)
    assert destroying.status_code == 303
    run_page = destroying.headers["location"]
    with fresh.client.stream("GET", run_page + "/events") as stream:
        events = read_events(stream)
    final = json.loads(events[-1][1])
    assert events[-1][0] == "settled" and final["ok"] is True and final["status"] == "DELETE_COMPLETE"
    assert "Destroyed" in fresh.page(run_page).text
    assert stacks()["fresh"] == "DELETE_COMPLETE"
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=outputs["BucketName"], Key="a.png")["Body"].read() == b"x"  # images kept
    assert "No stack" in fresh.page("/").text


def test_discard_deletes_the_change_set_and_the_empty_stack(cloud, tmp_path) -> None:
    with TestClient(create_app(settings_for(cloud, stack="declined", events_dir=tmp_path))) as client:
        browser = Browser(client).login()
        plan = browser.post("/deploy/plan").json()
        assert stacks()["declined"] == "REVIEW_IN_PROGRESS"
        discarded = browser.post(f"/deploy/{plan['id']}/discard", html=True)
        assert discarded.status_code == 303 and discarded.headers["location"] == "/deploy?discarded=1"
        assert "discarded" in browser.page("/deploy?discarded=1").text
        assert stacks().get("declined", "DELETE_COMPLETE") == "DELETE_COMPLETE"
        assert browser.post(f"/deploy/{plan['id']}/execute").status_code == 409
        assert browser.post("/deploy/unknown/execute").status_code == 404


def test_a_failed_deploy_streams_its_root_cause(fresh: Browser, monkeypatch) -> None:
    cause = StackEvent(
        "e2", datetime.now(UTC), "Function", "AWS::Lambda::Function", "CREATE_FAILED", "S3 key does not exist"
    )

    def failing(clients, planned, **kwargs):
        yield cause
        yield Settled("fresh", "ROLLBACK_COMPLETE", cause)
        raise DeployFailed(
            "deploy of stack fresh failed (ROLLBACK_COMPLETE): Function: S3 key does not exist",
            resource="Function",
            reason="S3 key does not exist",
            hint="a failed first deploy cannot be updated",
        )

    monkeypatch.setattr(deploy_op, "execute", failing)
    plan = fresh.post("/deploy/plan").json()
    fresh.post(f"/deploy/{plan['id']}/execute")
    with fresh.client.stream("GET", plan["events"]) as stream:
        events = read_events(stream)
    final = json.loads(events[-1][1])
    assert final["ok"] is False and final["status"] == "ROLLBACK_COMPLETE"
    assert final["error"]["resource"] == "Function" and final["error"]["reason"] == "S3 key does not exist"
    page = fresh.page(plan["page"]).text
    assert "Root cause" in page and "S3 key does not exist" in page and 'role="alert"' in page
    fresh.post(f"/deploy/{plan['id']}/discard")  # leaves nothing behind for the next test


def test_bad_parameters_are_400_without_echoing_them(fresh: Browser) -> None:
    reply = fresh.post("/deploy/plan", {"parameters": "SigningKey hush-hush"})
    assert reply.status_code == 400 and "line 1" in reply.json()["message"] and "hush" not in reply.text
    unknown = fresh.post("/deploy/plan", {"parameters": "Colour=blue"})
    assert unknown.status_code == 400 and "Colour" in unknown.json()["message"]
    assert "MemorySize" in unknown.json()["hint"]
    platform = fresh.post("/deploy/plan", {"platform": "sparc"})
    assert platform.status_code == 400


def test_package_build_and_publish(browser: Browser) -> None:
    built = browser.post("/deploy/package", {"platform": "x86_64"}).json()
    assert built["platform"] == "x86_64" and len(built["sha256"]) == 64 and built["published"] is None
    published = browser.post("/deploy/package", {"platform": "arm64", "publish": "true"}).json()
    assert published["published"]["bucket"].startswith("resizer-artifacts-")
    assert published["published"]["key"] == f"functions/{published['sha256']}.zip"
    page = browser.post("/deploy/package", {"platform": "arm64"}, html=True)
    assert page.status_code == 200 and published["sha256"] in page.text


def test_the_plan_page_lists_parameter_changes_and_keeps_the_rest(cloud, tmp_path) -> None:
    with TestClient(create_app(settings_for(cloud, stack="params", events_dir=tmp_path))) as client:
        browser = Browser(client).login()
        first = browser.post(
            "/deploy/plan", {"parameters": "MemorySize=1536\nSigningKey=first-secret-1"}
        ).json()
        browser.post(f"/deploy/{first['id']}/execute")
        with browser.client.stream("GET", first["events"]) as stream:
            assert json.loads(read_events(stream)[-1][1])["ok"] is True

        plan = browser.post(
            "/deploy/plan", {"parameters": "MemorySize=2048\nSigningKey=second-secret-2"}
        ).json()
        page = browser.page(plan["page"]).text

        changes = {c["name"]: c for c in plan["parameter_changes"]}
        assert (changes["MemorySize"]["old"], changes["MemorySize"]["new"]) == ("1536", "2048")
        assert changes["SigningKey"]["changed"] is True and changes["SigningKey"]["new"] == "****"
        assert changes["Timeout"]["changed"] is False
        assert "1536 → 2048" in page and "**** → **** (changed)" in page
        assert "other parameter(s) keep their current values" in page
        for secret in ("first-secret-1", "second-secret-2"):
            assert secret not in page and secret not in json.dumps(plan)
        browser.post(f"/deploy/{plan['id']}/discard")

        # A plan that leaves everything out changes nothing: no parameter reverts to its default.
        same = browser.post("/deploy/plan", {"parameters": ""}).json()
        assert same["no_changes"] and same["skipped"]
        assert not [c for c in same["parameter_changes"] if c["changed"] is not False]
