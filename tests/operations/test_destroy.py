"""operations.destroy against moto: the stack and its zip go, the images stay unless asked otherwise."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from operations import deploy, destroy, stack
from operations.destroy import DestroyPlan, Removed, empty_bucket
from operations.errors import DeployFailed, StackBusy, StackNotFound
from operations.stack import Settled, StackEvent
from tests.operations.conftest import (
    MOTO_WARNINGS,
    NO_SLEEP,
    STACK,
    STACK_ID,
    STACK_TYPE,
    Deployer,
    Sleeps,
    StubClients,
    newest_first,
    poll,
    raw_event,
    set_moto_status,
)

pytestmark = MOTO_WARNINGS


def outputs(deployer: Deployer, name: str = STACK) -> dict[str, str]:
    return stack.outputs(deployer.cfn.describe_stacks(StackName=name)["Stacks"][0])


def exists(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NoSuchBucket", "ResourceNotFoundException"}:
            return False
        raise
    return True


def test_the_plan_keeps_the_images_bucket(deployer: Deployer) -> None:
    planned, _ = deployer.deploy()
    assert planned.artifact is not None
    bucket = outputs(deployer)["BucketName"]

    plan = destroy.plan(deployer.clients, STACK)

    assert plan.stack == STACK
    assert plan.stack_id == deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackId"]
    assert plan.bucket == bucket
    assert plan.artifact == (planned.artifact.bucket, planned.artifact.key)
    assert not plan.delete_images
    assert len(plan.kept) == 1
    assert plan.kept[0].startswith(f"the images bucket {bucket} and every image in it")
    # What is left is said plainly: private from then on, and how to get the images served again.
    assert "answer 403" in plan.kept[0]
    assert f"a new stack adopts it with: resizer deploy -p BucketName={bucket}" in plan.kept[0]
    assert plan.deleted == [
        "stack resizer: the function, its role, log group, API and alarms",
        f"the function's zip s3://{planned.artifact.bucket}/{planned.artifact.key}",
    ]
    assert not any(bucket in line for line in plan.deleted)


def test_destroy_deletes_the_stack_the_function_and_the_zip_but_keeps_the_images(deployer: Deployer) -> None:
    planned, _ = deployer.deploy()
    assert planned.artifact is not None
    s3 = deployer.clients.client("s3")
    bucket = outputs(deployer)["BucketName"]
    s3.put_object(Bucket=bucket, Key="albums/cat.jpg", Body=b"\xff\xd8 a cat")
    plan = destroy.plan(deployer.clients, STACK)

    events = list(destroy.destroy(deployer.clients, plan, sleep=NO_SLEEP, poll=0))

    settled_at = next(i for i, e in enumerate(events) if isinstance(e, Settled))
    assert settled_at > 0 and all(isinstance(e, StackEvent) for e in events[:settled_at])
    assert events[0].status == "DELETE_IN_PROGRESS"
    assert events[settled_at] == Settled(plan.stack_id, "DELETE_COMPLETE", None)
    assert events[settled_at + 1 :] == [Removed(f"s3://{planned.artifact.bucket}/{planned.artifact.key}")]

    assert stack.describe(deployer.cfn, STACK) is None
    lam = deployer.clients.client("lambda")
    assert not exists(lambda: lam.get_function(FunctionName="resizer-resize"))
    assert not exists(lambda: s3.head_object(Bucket=planned.artifact.bucket, Key=planned.artifact.key))
    assert exists(lambda: s3.head_bucket(Bucket=planned.artifact.bucket))  # shared by every stack
    # The images bucket (DeletionPolicy: Retain) and its images are still there.
    assert s3.get_object(Bucket=bucket, Key="albums/cat.jpg")["Body"].read() == b"\xff\xd8 a cat"
    with pytest.raises(StackNotFound):
        destroy.plan(deployer.clients, STACK)


def test_delete_images_empties_and_deletes_the_bucket(deployer: Deployer) -> None:
    deployer.deploy()
    s3 = deployer.clients.client("s3")
    bucket = outputs(deployer)["BucketName"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="cat.jpg", Body=b"1")
    s3.put_object(Bucket=bucket, Key="cat.jpg", Body=b"2")
    s3.put_object(Bucket=bucket, Key="300x200/cat.jpg", Body=b"3")
    s3.delete_object(Bucket=bucket, Key="300x200/cat.jpg")  # a delete marker

    plan = destroy.plan(deployer.clients, STACK, delete_images=True)
    assert plan.delete_images
    assert plan.kept == []
    assert f"the images bucket {bucket} and every image in it" in plan.deleted

    events = list(destroy.destroy(deployer.clients, plan, sleep=NO_SLEEP))

    assert events[-1] == Removed(f"bucket {bucket} with 4 object version(s)", 4)
    assert isinstance(events[-2], Removed) and events[-2].what.startswith("s3://")
    assert not exists(lambda: s3.head_bucket(Bucket=bucket))


def test_a_zip_another_stack_runs_is_kept(deployer: Deployer) -> None:
    first, _ = deployer.deploy(STACK)
    second, _ = deployer.deploy("resizer-staging")
    assert first.artifact is not None and second.artifact is not None
    assert first.artifact.key == second.artifact.key  # the same code: the same content-addressed zip
    s3 = deployer.clients.client("s3")

    events = list(destroy.destroy(deployer.clients, destroy.plan(deployer.clients, STACK), sleep=NO_SLEEP))

    assert not any(isinstance(e, Removed) for e in events)
    assert exists(lambda: s3.head_object(Bucket=first.artifact.bucket, Key=first.artifact.key))
    # The last stack that runs it takes it along.
    events = list(
        destroy.destroy(deployer.clients, destroy.plan(deployer.clients, "resizer-staging"), sleep=NO_SLEEP)
    )
    assert events[-1] == Removed(f"s3://{first.artifact.bucket}/{first.artifact.key}")
    assert not exists(lambda: s3.head_object(Bucket=first.artifact.bucket, Key=first.artifact.key))


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS"])
def test_a_busy_stack_is_not_destroyed(deployer: Deployer, status: str) -> None:
    deployer.deploy()
    set_moto_status(STACK, status)
    with pytest.raises(StackBusy) as raised:
        destroy.plan(deployer.clients, STACK)
    assert raised.value.message == f"stack {STACK} is busy ({status})"
    assert raised.value.hint


def test_a_missing_stack_is_not_found(deployer: Deployer) -> None:
    with pytest.raises(StackNotFound, match="'nothing' does not exist"):
        destroy.plan(deployer.clients, "nothing")


def test_a_stack_left_in_review_can_be_destroyed(deployer: Deployer) -> None:
    """A CREATE plan that was neither executed nor discarded (the process was killed) leaves a stack in
    REVIEW_IN_PROGRESS, a state that lasts until someone deletes the stack: it is not busy."""
    deployer.plan()
    assert deployer.cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"

    plan = destroy.plan(deployer.clients, STACK)
    events = list(destroy.destroy(deployer.clients, plan, sleep=NO_SLEEP))

    assert any(e == Settled(plan.stack_id, "DELETE_COMPLETE", None) for e in events)
    assert stack.describe(deployer.cfn, STACK) is None


def test_a_failed_first_deploy_can_be_destroyed_with_its_images_bucket(deployer: Deployer) -> None:
    """After a failed first deploy (ROLLBACK_COMPLETE) the stack has no Outputs, but the images bucket
    was created (and retained by the rollback): deploy's hint says "run 'resizer destroy' (the images
    bucket is kept)", so destroy must still name that bucket, and delete it when asked to."""
    planned = deployer.plan()
    list(deploy.execute(deployer.clients, planned, sleep=NO_SLEEP))  # no Outputs, like ROLLBACK_COMPLETE
    set_moto_status(STACK, "ROLLBACK_COMPLETE")
    resources = deployer.cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    (bucket,) = [r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "ImagesBucket"]
    assert outputs(deployer) == {}

    plan = destroy.plan(deployer.clients, STACK, delete_images=True)

    assert plan.bucket == bucket
    assert f"the images bucket {bucket} and every image in it" in plan.deleted


def test_a_failed_delete_reports_its_root_cause(cfn: Any) -> None:
    client, stubber = cfn
    history = [
        raw_event(40, STACK, STACK_TYPE, "UPDATE_COMPLETE"),
        raw_event(41, STACK, STACK_TYPE, "DELETE_IN_PROGRESS", "User Initiated"),
        raw_event(
            42,
            "FunctionRole",
            "AWS::IAM::Role",
            "DELETE_FAILED",
            "Cannot delete entity, must detach all policies first.",
        ),
        raw_event(
            43,
            STACK,
            STACK_TYPE,
            "DELETE_FAILED",
            "The following resource(s) failed to delete: [FunctionRole].",
        ),
    ]
    stubber.add_response("describe_stack_events", newest_first(history[:1]), {"StackName": STACK_ID})
    stubber.add_response("delete_stack", {}, {"StackName": STACK_ID})
    poll(stubber, "DELETE_IN_PROGRESS", history[:2])
    poll(stubber, "DELETE_FAILED", history)
    plan = DestroyPlan(STACK, STACK_ID, "images", ("artifacts", "functions/x.zip"), delete_images=True)
    seen: list[Any] = []

    with pytest.raises(DeployFailed) as raised:
        for event in destroy.destroy(StubClients(client), plan, sleep=Sleeps()):
            seen.append(event)

    assert raised.value.resource == "FunctionRole"
    assert raised.value.reason == "Cannot delete entity, must detach all policies first."
    assert raised.value.message.startswith("destroy of stack ")
    assert (
        " failed (DELETE_FAILED): FunctionRole (AWS::IAM::Role): Cannot delete entity" in raised.value.message
    )
    assert [getattr(e, "event_id", None) for e in seen[:-1]] == ["e41", "e42", "e43"]
    assert seen[-1].status == "DELETE_FAILED"  # and nothing was removed from S3 (no s3 client exists)


class FakeS3:
    """Enough of S3 for empty_bucket: versions in pages, and delete_objects calls recorded."""

    def __init__(self, pages: list[dict], refused: frozenset[str] = frozenset()) -> None:
        self.pages = pages
        self.refused = refused
        self.deletes: list[list[dict]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_object_versions"
        pages = self.pages

        class Paginator:
            def paginate(self, Bucket: str) -> list[dict]:
                return pages

        return Paginator()

    def delete_objects(self, Bucket: str, Delete: dict) -> dict:
        assert Delete["Quiet"] is True
        self.deletes.append(Delete["Objects"])
        errors = [
            {**o, "Code": "AccessDenied", "Message": "Access Denied"}
            for o in Delete["Objects"]
            if o["Key"] in self.refused
        ]
        return {"Errors": errors} if errors else {}


def test_empty_bucket_deletes_in_batches_of_1000() -> None:
    versions = [{"Key": f"k{i}", "VersionId": f"v{i}"} for i in range(2300)]
    markers = [{"Key": "gone", "VersionId": "m1"}]
    s3 = FakeS3([{"Versions": versions[:2000]}, {"Versions": versions[2000:], "DeleteMarkers": markers}, {}])

    assert empty_bucket(s3, "images") == 2301
    assert [len(batch) for batch in s3.deletes] == [1000, 1000, 301]
    assert s3.deletes[2][-1] == {"Key": "gone", "VersionId": "m1"}
    assert [o for batch in s3.deletes for o in batch][:2] == versions[:2]


def test_empty_bucket_reports_the_versions_s3_did_not_delete() -> None:
    from operations.errors import AccessDenied

    versions = [{"Key": f"k{i}", "VersionId": f"v{i}"} for i in range(5)]
    s3 = FakeS3([{"Versions": versions}], refused=frozenset({"k1", "k3"}))
    with pytest.raises(AccessDenied) as failed:
        empty_bucket(s3, "images")
    assert failed.value.message == "S3 did not delete 2 object(s): 'k1', 'k3' (AccessDenied: Access Denied)"
    assert failed.value.hint == "3 version(s) were deleted"
