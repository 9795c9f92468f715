"""End to end, derived images follow their originals in the local cloud, whoever changes them.

The stack is deployed as ``resizer up`` deploys it (the template's cdn default, the real zip); the
originals are written with plain boto3 calls (no CLI), so only S3 -> EventBridge -> the cleanup
function can notice. Sizes are requested through the public (CDN) URL.
"""

import io
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import local
from operations.aws import Clients

FOLLOW_WITHIN_S = 30.0  # the bound: the event, a cold start of the cleanup, its S3 calls


@dataclass
class Cloud:
    ready: local.Ready

    @property
    def cdn(self) -> str:
        return self.ready.outputs["CdnUrl"]

    @property
    def bucket(self) -> str:
        return self.ready.outputs["BucketName"]

    def client(self, service: str) -> Any:
        return Clients.for_local_cloud(self.ready.endpoint_url).client(service, retries=False)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    os.environ["RESIZER_CACHE_DIR"] = str(tmp_path_factory.mktemp("follow-cache"))
    with local_cloud(tmp_path_factory.mktemp("follow-local"), free_port()) as url:
        ready = [e for e in local.provision(url, sleep=lambda s: None) if isinstance(e, local.Ready)][-1]
        yield Cloud(ready)


def picture(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(out, "JPEG", quality=95)
    return out.getvalue()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def colour_of(body: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(body)) as im:
        return im.convert("RGB").getpixel((im.width // 2, im.height // 2))


def near(found: tuple[int, ...], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(found, wanted, strict=True))


def gone_within(s3, bucket: str, key: str, seconds: float) -> float:
    """Seconds until key no longer exists; AssertionError after the bound."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{key} still exists {seconds:.0f} s after its original changed")


def serves_within(url: str, wanted, seconds: float) -> float:
    """Seconds until url answers what wanted(status, body) accepts; AssertionError after the bound
    (the CDN serves its cached copy until the cleanup's invalidation lands)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        status, body = fetch(url)
        if wanted(status, body):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{url} still answers {status} {seconds:.0f} s after its original changed")


def invalidated_paths(cloud: Cloud) -> set[str]:
    cloudfront = cloud.client("cloudfront")
    distribution = cloud.ready.outputs["DistributionId"]
    found = set()
    for item in cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get(
        "Items", []
    ):
        batch = cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])
        found |= set(batch["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))
    return found


RED, BLUE = (220, 20, 20), (20, 20, 220)


def test_the_bucket_sends_its_events_to_eventbridge_and_a_rule_to_the_cleanup(cloud):
    s3 = cloud.client("s3")
    config = s3.get_bucket_notification_configuration(Bucket=cloud.bucket)
    assert "EventBridgeConfiguration" in config
    events = cloud.client("events")
    (rule,) = events.list_rules()["Rules"]
    assert rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(":function:resizer-cleanup")
    with pytest.raises(Exception, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=cloud.bucket)  # DerivedExpirationDays=0 keeps


def test_overwriting_an_original_with_boto3_removes_its_sizes_and_the_url_shows_the_new_picture(cloud):
    s3 = cloud.client("s3")
    s3.put_object(Bucket=cloud.bucket, Key="follow/pic.jpg", Body=picture(RED), ContentType="image/jpeg")
    status, body = fetch(f"{cloud.cdn}/200x/follow/pic.jpg")
    assert status == 200 and near(colour_of(body), RED)
    stored = s3.get_object_tagging(Bucket=cloud.bucket, Key="200x/follow/pic.jpg")["TagSet"]
    assert stored == [{"Key": "resizer:derived", "Value": "1"}]
    status, body = fetch(f"{cloud.cdn}/200x/follow/pic.jpg")
    assert status == 200 and near(colour_of(body), RED)  # now a CDN hit

    s3.put_object(Bucket=cloud.bucket, Key="follow/pic.jpg", Body=picture(BLUE), ContentType="image/jpeg")
    took = gone_within(s3, cloud.bucket, "200x/follow/pic.jpg", FOLLOW_WITHIN_S)
    print(f"overwrite -> derived object gone in {took:.2f} s")

    url = f"{cloud.cdn}/200x/follow/pic.jpg"
    took = serves_within(url, lambda status, body: status == 200 and near(colour_of(body), BLUE), 30)
    print(f"overwrite -> the CDN URL serves the new picture in {took:.2f} s")
    assert {"/follow/pic.jpg", "/200x/follow/pic.jpg"} <= invalidated_paths(cloud)
    assert s3.head_object(Bucket=cloud.bucket, Key="follow/pic.jpg")["ContentLength"] > 0, "original kept"


def test_deleting_an_original_with_boto3_removes_its_sizes_and_the_url_answers_404(cloud):
    s3 = cloud.client("s3")
    s3.put_object(Bucket=cloud.bucket, Key="follow/gone.jpg", Body=picture(RED), ContentType="image/jpeg")
    for path in ("200x/follow/gone.jpg", "x60,webp/follow/gone.jpg"):
        assert fetch(f"{cloud.cdn}/{path}")[0] == 200
    s3.put_object(Bucket=cloud.bucket, Key="follow/kept.jpg", Body=picture(RED), ContentType="image/jpeg")
    assert fetch(f"{cloud.cdn}/200x/follow/kept.jpg")[0] == 200

    s3.delete_object(Bucket=cloud.bucket, Key="follow/gone.jpg")
    took = max(
        gone_within(s3, cloud.bucket, "200x/follow/gone.jpg", FOLLOW_WITHIN_S),
        gone_within(s3, cloud.bucket, "x60,webp/follow/gone.jpg", FOLLOW_WITHIN_S),
    )
    print(f"delete -> derived objects gone in {took:.2f} s")

    serves_within(f"{cloud.cdn}/200x/follow/gone.jpg", lambda status, body: status == 404, 30)
    assert {"/follow/gone.jpg", "/200x/follow/gone.jpg", "/x60,webp/follow/gone.jpg"} <= invalidated_paths(
        cloud
    )
    assert s3.head_object(Bucket=cloud.bucket, Key="200x/follow/kept.jpg")["ContentLength"] > 0


def test_the_cleanup_ignores_the_events_of_the_objects_it_and_the_resizer_write(cloud):
    logs = cloud.client("logs")
    lines, token = [], None
    while True:
        page = logs.filter_log_events(
            logGroupName="/aws/lambda/resizer-cleanup", **({"nextToken": token} if token else {})
        )
        lines += [e["message"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    ignored = [line for line in lines if '"ignored": "a derived object"' in line]
    assert ignored, "the resizer's writes reach the cleanup as events, which it ignores"
    assert not [line for line in lines if '"level": "ERROR"' in line]
    assert not [line for line in lines if "Traceback" in line]


def test_derived_expiration_days_adds_a_lifecycle_rule_for_tagged_objects_only(cloud):
    url = cloud.ready.endpoint_url
    events = list(local.provision(url, parameters={"DerivedExpirationDays": "7"}, sleep=lambda s: None))
    assert isinstance(events[-1], local.Ready)
    s3 = cloud.client("s3")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=cloud.bucket)["Rules"]
    assert rule["Status"] == "Enabled" and rule["Expiration"] == {"Days": 7}
    assert rule["Filter"] == {"Tag": {"Key": "resizer:derived", "Value": "1"}}
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=cloud.bucket)
    # the update kept the cleanup working
    s3.put_object(Bucket=cloud.bucket, Key="follow/after.jpg", Body=picture(RED), ContentType="image/jpeg")
    assert fetch(f"{cloud.cdn}/200x/follow/after.jpg")[0] == 200
    s3.delete_object(Bucket=cloud.bucket, Key="follow/after.jpg")
    gone_within(s3, cloud.bucket, "200x/follow/after.jpg", FOLLOW_WITHIN_S)


def test_after_a_restart_the_rule_still_sends_events_to_the_cleanup(tmp_path_factory):
    data = tmp_path_factory.mktemp("follow-restart")
    port = free_port()
    with local_cloud(data, port) as url:
        [e for e in local.provision(url, sleep=lambda s: None) if isinstance(e, local.Ready)]
    with local_cloud(data, port) as url:
        ready = [e for e in local.provision(url, sleep=lambda s: None) if isinstance(e, local.Ready)][-1]
        cloud = Cloud(ready)
        s3 = cloud.client("s3")
        s3.put_object(Bucket=cloud.bucket, Key="kept.jpg", Body=picture(RED), ContentType="image/jpeg")
        assert fetch(f"{cloud.cdn}/200x/kept.jpg")[0] == 200
        s3.delete_object(Bucket=cloud.bucket, Key="kept.jpg")
        gone_within(s3, cloud.bucket, "200x/kept.jpg", FOLLOW_WITHIN_S)
