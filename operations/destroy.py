"""Destroy: delete the stack and its published code; keep the images unless told otherwise.

The template retains the images bucket (DeletionPolicy: Retain), so deleting the stack never
deletes an image. ``delete_images=True`` is the separate, explicit choice that empties and
deletes that bucket after the stack is gone.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from operations import deletions, stack
from operations.aws import Clients, translated
from operations.errors import StackBusy


@dataclass(frozen=True)
class DestroyPlan:
    """What destroy will delete and what it will keep."""

    stack: str
    stack_id: str
    bucket: str
    artifact: tuple[str, str] | None  # (bucket, key) of the function's zip
    delete_images: bool
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Removed:
    """Something destroy removed after the stack was gone (the zip, the images, the bucket)."""

    what: str
    count: int = 1


@translated
def plan(clients: Clients, name: str, *, delete_images: bool = False) -> DestroyPlan:
    cfn = clients.client("cloudformation")
    described = stack.require(cfn, name)
    if described["StackStatus"] != "REVIEW_IN_PROGRESS" and not stack.settled(described["StackStatus"]):
        raise StackBusy(f"stack {name} is busy ({described['StackStatus']})", hint="wait, then try again")
    outputs = stack.outputs(described)
    params = stack.parameters(described)
    bucket = outputs.get("BucketName") or _physical_id(cfn, described["StackId"], "AWS::S3::Bucket")
    artifact = (params["ArtifactBucket"], params["ArtifactKey"]) if "ArtifactKey" in params else None
    deleted = [f"stack {name}: the function, its role, log group, API and alarms"]
    if artifact:
        deleted.append(f"the function's zip s3://{artifact[0]}/{artifact[1]}")
    kept = []
    if bucket and delete_images:
        deleted.append(f"the images bucket {bucket} and every image in it")
    elif bucket:
        kept.append(
            f"the images bucket {bucket} and every image in it, private from then on: its public-read "
            "policy and the API its website redirects to go with the stack, so its URLs answer 403 "
            f"until a new stack adopts it with: resizer deploy -p BucketName={bucket}"
        )
    return DestroyPlan(name, described["StackId"], bucket, artifact, delete_images, deleted, kept)


@translated
def destroy(
    clients: Clients, planned: DestroyPlan, *, sleep: Callable[[float], None] = time.sleep, poll: float = 2.0
) -> Iterator[stack.StackEvent | stack.Settled | Removed]:
    """Delete the stack, yielding its events; then the zip, and the images if the plan says so."""
    cfn = clients.client("cloudformation")
    after = stack.newest_event_id(cfn, planned.stack_id)
    cfn.delete_stack(StackName=planned.stack_id)
    for event in stack.watch(cfn, planned.stack_id, after=after, sleep=sleep, poll=poll):
        yield event
        if isinstance(event, stack.Settled) and not event.ok:
            raise stack.failure(event, "destroy")
    s3 = clients.client("s3")
    if planned.artifact and not stack.runs_artifact(cfn, planned.artifact[1]):
        owner = {"ExpectedBucketOwner": clients.account_id()}
        s3.delete_object(Bucket=planned.artifact[0], Key=planned.artifact[1], **owner)
        yield Removed(f"s3://{planned.artifact[0]}/{planned.artifact[1]}")
    if planned.delete_images and planned.bucket:
        count = empty_bucket(s3, planned.bucket)
        s3.delete_bucket(Bucket=planned.bucket)
        yield Removed(f"bucket {planned.bucket} with {count} object version(s)", count)


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; the number deleted. An operations error
    naming the keys S3 did not delete (deletions.failed): the bucket is then kept, not empty."""
    count = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        deleted, failures = deletions.delete(s3, bucket, doomed)
        if failures:
            raise deletions.failed(failures, hint=f"{count + len(deleted)} version(s) were deleted")
        count += len(deleted)
    return count


def _physical_id(cfn: Any, stack_id: str, resource_type: str) -> str:
    """A resource's physical id when the stack has no outputs (e.g. after a failed first deploy)."""
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == resource_type and resource.get("PhysicalResourceId"):
                return resource["PhysicalResourceId"]
    return ""
