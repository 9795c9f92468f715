"""S3 -> EventBridge -> Lambda in the local cloud: AWS's event shape, rules, permissions, async."""

import io
import json
import threading
import time
import zipfile

import boto3
import pytest
from moto import mock_aws

from localcloud import moto_lambda, s3_events

BUCKET = "images"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    invoked: list[tuple[str, dict]] = []
    arrived = threading.Event()

    def invoke_async(fn, payload: str) -> None:
        invoked.append((fn.function_name, json.loads(payload)))
        arrived.set()

    monkeypatch.setattr(moto_lambda, "invoke_async", invoke_async)
    s3_events.install()
    try:
        with mock_aws():
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket=BUCKET)
            s3.put_bucket_notification_configuration(
                Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
            yield World(s3, invoked, arrived)
    finally:
        s3_events.uninstall()


class World:
    def __init__(self, s3, invoked, arrived) -> None:
        self.s3, self.invoked, self.arrived = s3, invoked, arrived
        self.events = boto3.client("events")
        self.awslambda = boto3.client("lambda")

    def function(self, name: str = "cleanup") -> str:
        role = boto3.client("iam").create_role(
            RoleName=f"{name}-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("h.py", "def handler(event, context):\n    return None\n")
        return self.awslambda.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]

    def rule(self, function_arn: str, *, permitted: bool = True, state: str = "ENABLED") -> str:
        pattern = {
            "source": ["aws.s3"],
            "detail-type": ["Object Created", "Object Deleted"],
            "detail": {"bucket": {"name": [BUCKET]}},
        }
        arn = self.events.put_rule(Name="follow", EventPattern=json.dumps(pattern), State=state)["RuleArn"]
        self.events.put_targets(Rule="follow", Targets=[{"Id": "cleanup", "Arn": function_arn}])
        if permitted:
            self.awslambda.add_permission(
                FunctionName=function_arn,
                StatementId="events",
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=arn,
            )
        return arn

    def wait(self, count: int, seconds: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + seconds
        while len(self.invoked) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [payload for _, payload in self.invoked]


def test_an_upload_sends_the_documented_object_created_event_to_the_rules_function(aws):
    aws.rule(aws.function())
    etag = aws.s3.put_object(Bucket=BUCKET, Key="my cat.jpg", Body=b"hello")["ETag"].strip('"')
    (event,) = aws.wait(1)
    assert event["detail-type"] == "Object Created"
    assert event["source"] == "aws.s3"
    assert event["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    assert event["region"] == "us-east-1"
    assert len(event["account"]) == 12
    assert event["time"].endswith("Z") and "T" in event["time"]  # ISO 8601, not a Unix time
    detail = event["detail"]
    assert detail["bucket"] == {"name": BUCKET}
    assert detail["object"]["key"] == "my cat.jpg"
    assert detail["object"]["etag"] == etag and detail["object"]["size"] == 5
    assert "eTag" not in detail["object"]
    assert detail["reason"] == "PutObject"
    assert detail["requester"] == event["account"]


def test_a_delete_sends_object_deleted_with_its_deletion_type(aws):
    aws.rule(aws.function())
    aws.s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=b"hello")
    aws.s3.delete_object(Bucket=BUCKET, Key="cat.jpg")
    created, deleted = aws.wait(2)
    assert deleted["detail-type"] == "Object Deleted"
    assert deleted["detail"]["reason"] == "DeleteObject"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert deleted["detail"]["object"]["key"] == "cat.jpg"
    assert deleted["detail"]["object"]["sequencer"] > created["detail"]["object"]["sequencer"]


def test_no_invocation_without_the_functions_permission_for_that_rule(aws):
    aws.rule(aws.function(), permitted=False)
    aws.s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=b"hello")
    assert aws.wait(1, seconds=1.0) == []


def test_a_disabled_rule_or_another_bucket_invokes_nothing(aws):
    aws.rule(aws.function(), state="DISABLED")
    aws.s3.put_object(Bucket=BUCKET, Key="cat.jpg", Body=b"hello")
    assert aws.wait(1, seconds=1.0) == []
    aws.events.enable_rule(Name="follow")
    aws.s3.create_bucket(Bucket="other")
    aws.s3.put_bucket_notification_configuration(
        Bucket="other", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    aws.s3.put_object(Bucket="other", Key="cat.jpg", Body=b"hello")
    assert aws.wait(1, seconds=1.0) == []


def test_a_bucket_without_eventbridge_sends_nothing(aws):
    aws.rule(aws.function())
    aws.s3.create_bucket(Bucket="quiet")
    aws.s3.put_object(Bucket="quiet", Key="cat.jpg", Body=b"hello")
    assert aws.wait(1, seconds=1.0) == []


def test_the_notification_configuration_shows_eventbridge(aws):
    config = aws.s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert config["EventBridgeConfiguration"] == {}
    aws.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in aws.s3.get_bucket_notification_configuration(Bucket=BUCKET)


def test_a_cloudformation_lifecycle_rule_becomes_the_buckets(aws):
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    rules = [
        {
            "Id": "expire-derived-images",
            "Status": "Enabled",
            "TagFilters": [{"Key": "resizer:derived", "Value": "1"}],
            "ExpirationInDays": 7,
        }
    ]
    s3_events.apply_bucket_properties(
        backend,
        BUCKET,
        {
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "LifecycleConfiguration": {"Rules": rules},
        },
    )
    (rule,) = aws.s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["ID"] == "expire-derived-images"
    assert rule["Filter"] == {"Tag": {"Key": "resizer:derived", "Value": "1"}}
    assert rule["Expiration"] == {"Days": 7}
    s3_events.apply_bucket_properties(backend, BUCKET, {})
    with pytest.raises(Exception, match="NoSuchLifecycleConfiguration"):
        aws.s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)
    assert "EventBridgeConfiguration" not in aws.s3.get_bucket_notification_configuration(Bucket=BUCKET)
