"""localcloud.cloudformation: moto runs cloudformation/resizer.yaml as AWS does (in-process moto)."""

import io
import itertools
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import cloudformation
from localcloud.cloudformation import LocalUrls
from operations import deploy, package, template
from operations.aws import Clients, Target
from operations.config import Settings
from operations.errors import DeployFailed
from tests import stack_outputs
from tests.conftest import FakeBuild

REGION = "us-east-1"
TEMPLATE = template.read()
ARTIFACTS = "resizer-artifacts"
STACK = "resizer"
_numbers = itertools.count()


# aws (moto with the local cloud's CloudFormation) and fake_build are the root tests/conftest.py's.


@pytest.fixture
def local_urls(aws: None) -> LocalUrls:
    urls = LocalUrls("http://127.0.0.1:4566")
    cloudformation.install(urls)  # again: the urls change, nothing is patched twice
    return urls


def function_zip(text: str = "def handler(event, context):\n    return {}\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("resizer_function/handler.py", text)
    return buffer.getvalue()


@pytest.fixture
def artifact(aws: None) -> dict[str, str]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=ARTIFACTS)
    s3.put_object(Bucket=ARTIFACTS, Key="functions/one.zip", Body=function_zip())
    s3.put_object(
        Bucket=ARTIFACTS, Key="functions/two.zip", Body=function_zip("def handler(e, c):\n    pass\n")
    )
    # The website delivery, whose resources these tests check; cdn: tests/localcloud/test_cfn_cloudfront.py.
    return {"ArtifactBucket": ARTIFACTS, "ArtifactKey": "functions/one.zip", "Delivery": "website"}


def cfn() -> Any:
    return boto3.client("cloudformation")


def change_set(parameters: dict[str, str], kind: str, body: str = TEMPLATE, stack: str = STACK) -> dict:
    """Create a change set of ``kind`` and execute it; the stack's description afterwards."""
    client = cfn()
    created = client.create_change_set(
        StackName=stack,
        TemplateBody=body,
        ChangeSetName=f"cs-{next(_numbers)}",
        ChangeSetType=kind,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    assert client.describe_change_set(ChangeSetName=created["Id"])["Status"] == "CREATE_COMPLETE"
    client.execute_change_set(ChangeSetName=created["Id"])
    return client.describe_stacks(StackName=stack)["Stacks"][0]


def outputs(described: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def resources(stack: str = STACK) -> dict[str, dict]:
    summaries = cfn().list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r for r in summaries}


def events(stack: str = STACK) -> list[tuple[str, str, str]]:
    raw = cfn().describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
        for e in reversed(raw)
    ]


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    return caught.value.response["Error"]["Message"]


# --- a deploy creates what AWS would --------------------------------------------------------------


def test_deploy_creates_every_resource_and_all_outputs(artifact: dict[str, str]) -> None:
    described = change_set(artifact, "CREATE")

    assert described["StackStatus"] == "CREATE_COMPLETE"
    found = outputs(described)
    assert set(found) == stack_outputs.WEBSITE
    bucket, api_id = found["BucketName"], resources()["RestApi"]["PhysicalResourceId"]
    assert found["WebsiteUrl"] == f"http://{bucket}.s3-website.{REGION}.amazonaws.com"
    assert found["ApiUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod"
    assert (found["FunctionName"], found["LogGroupName"]) == ("resizer-resize", "/aws/lambda/resizer-resize")
    assert {r["ResourceStatus"] for r in resources().values()} == {"CREATE_COMPLETE"}
    assert len(resources()) == 22  # 17 serve requests (3 for access logs), 5 are the cleanup (Cleanup*)

    s3 = boto3.client("s3")
    website = s3.get_bucket_website(Bucket=bucket)
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    assert website["RoutingRules"] == [
        {
            "Condition": {"HttpErrorCodeReturnedEquals": "404"},
            "Redirect": {
                "HostName": f"{api_id}.execute-api.{REGION}.amazonaws.com",
                "HttpRedirectCode": "307",
                "Protocol": "https",
                "ReplaceKeyPrefixWith": "prod/",
            },
        }
    ]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Principal"] == "*"
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    apigw = boto3.client("apigateway")
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["binaryMediaTypes"] == ["*/*"] and api["endpointConfiguration"]["types"] == ["REGIONAL"]
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert stage["deploymentId"] == resources()["Deployment"]["PhysicalResourceId"]
    # ...and, when the stack sets the account's CloudWatch role, which setting (so the stage waits for it).
    assert stage["description"].startswith(
        "The stage the CDN fails over to (or the images website redirects to)"
    )

    alarms = {
        a["MetricName"] + "/" + a["Namespace"]: a
        for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    }
    assert set(alarms) == {"Errors/AWS/Lambda", "Throttles/AWS/Lambda", "Errors/Resizer"}
    for alarm in alarms.values():
        assert alarm["AlarmName"].startswith("resizer-") and alarm["AlarmName"].endswith(
            "Alarm-" + alarm["AlarmName"][-12:]
        )
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1.0, "GreaterThanOrEqualToThreshold")
        assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"] == []
        assert "resizer-resize" in alarm["AlarmDescription"]
    assert alarms["Errors/Resizer"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": "resizer-resize"},
        {"Name": "ErrorCode", "Value": "internal_error"},
    ]
    assert resources()["ErrorsAlarm"]["PhysicalResourceId"] == alarms["Errors/AWS/Lambda"]["AlarmName"]

    config = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")
    assert config["Architectures"] == ["arm64"] and config["MemorySize"] == 1024
    assert config["Environment"]["Variables"]["MAX_DIMENSION"] == "4096"  # strings, as on AWS
    assert config["Environment"]["Variables"]["PUBLIC_URL"] == found["WebsiteUrl"]
    statement = json.loads(boto3.client("lambda").get_policy(FunctionName="resizer-resize")["Policy"])[
        "Statement"
    ]
    assert [s["Sid"] for s in statement] == [resources()["ApiInvokePermission"]["PhysicalResourceId"]]

    role = resources()["FunctionRole"]["PhysicalResourceId"]
    document = boto3.client("iam").get_role_policy(RoleName=role, PolicyName="resizer")["PolicyDocument"]
    logs_arn = {s["Sid"]: s["Resource"] for s in document["Statement"]}["WriteOwnLogs"]
    assert logs_arn == f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/lambda/resizer-resize:*"
    logs = boto3.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/resizer-resize")["logGroups"]
    assert [g.get("retentionInDays") for g in groups] == [30]


def test_with_local_urls_the_outputs_and_the_public_url_are_on_the_local_cloud(
    local_urls: LocalUrls, artifact: dict[str, str]
) -> None:
    found = outputs(change_set(artifact, "CREATE"))
    api_id = resources()["RestApi"]["PhysicalResourceId"]
    assert found["WebsiteUrl"] == f"http://127.0.0.1:4566/_aws/s3-website/{found['BucketName']}"
    assert found["ApiUrl"] == f"http://127.0.0.1:4566/_aws/execute-api/{api_id}/prod"
    config = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")
    assert config["Environment"]["Variables"]["PUBLIC_URL"] == found["WebsiteUrl"]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://pics.s3-website-us-east-1.amazonaws.com", "http://h:1/_aws/s3-website/pics"),
        (
            "http://a.b.s3-website.eu-west-3.amazonaws.com/300x200/c.jpg",
            "http://h:1/_aws/s3-website/a.b/300x200/c.jpg",
        ),
        (
            "https://abc123.execute-api.us-east-1.amazonaws.com/prod/x?y=1",
            "http://h:1/_aws/execute-api/abc123/prod/x?y=1",
        ),
        ("https://example.com/prod", "https://example.com/prod"),
    ],
)
def test_local_urls_rewrite(url: str, local: str) -> None:
    assert LocalUrls("http://h:1/").rewrite(url) == local


def test_install_is_idempotent_and_uninstall_gives_moto_back() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack
    from moto.s3.models import FakeBucket

    plain = Stack.create_resources
    try:
        cloudformation.install()
        patched = Stack.create_resources
        cloudformation.install(LocalUrls("http://h:1"))
        assert Stack.create_resources is patched is not plain
        assert "AWS::ApiGateway::Stage" in parsing.get_model_map()
    finally:
        cloudformation.uninstall()
    assert Stack.create_resources is plain
    assert "AWS::ApiGateway::Stage" not in parsing.get_model_map()
    assert parsing.get_model_map()["AWS::S3::Bucket"] is FakeBucket


# --- refused before anything exists -------------------------------------------------------------

APP_RUNNER = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Service:
    Type: AWS::AppRunner::Service
    Properties:
      SourceConfiguration:
        ImageRepository:
          ImageIdentifier: public.ecr.aws/nginx/nginx:latest
          ImageRepositoryType: ECR_PUBLIC
"""


def nothing_left(stack: str = STACK) -> None:
    assert not [s for s in cfn().list_stacks()["StackSummaries"] if s["StackName"] == stack]
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] in ([], [ARTIFACTS])


def test_a_type_moto_cannot_model_is_refused(aws: None) -> None:
    message = refused(
        lambda: cfn().create_change_set(
            StackName=STACK, TemplateBody=APP_RUNNER, ChangeSetName="c", ChangeSetType="CREATE"
        )
    )
    assert "Service" in message and "AWS::AppRunner::Service" in message and "not supported" in message
    nothing_left()
    unknown = APP_RUNNER.replace("AWS::AppRunner::Service", "AWS::Made::Up")
    message = refused(lambda: cfn().create_stack(StackName=STACK, TemplateBody=unknown))
    assert "Unrecognized resource types: [AWS::Made::Up]" in message
    nothing_left()


@pytest.mark.parametrize("how", ["change set", "create stack"])
def test_an_invalid_property_is_refused(artifact: dict[str, str], how: str) -> None:
    body = TEMPLATE.replace("      BucketEncryption:", "      Bogus: 1\n      BucketEncryption:", 1)
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in artifact.items()]
    if how == "change set":
        call = lambda: cfn().create_change_set(  # noqa: E731
            StackName=STACK,
            TemplateBody=body,
            ChangeSetName="c",
            ChangeSetType="CREATE",
            Parameters=parameters,
        )
    else:
        call = lambda: cfn().create_stack(StackName=STACK, TemplateBody=body, Parameters=parameters)  # noqa: E731
    message = refused(call)
    assert "Resources/ImagesBucket/Properties/Bogus" in message and "'Bogus' was unexpected" in message
    nothing_left()


def test_a_parameter_outside_its_constraints_is_refused(artifact: dict[str, str]) -> None:
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in {**artifact, "Timeout": "60"}.items()]
    message = refused(
        lambda: cfn().create_change_set(
            StackName=STACK,
            TemplateBody=TEMPLATE,
            ChangeSetName="c",
            ChangeSetType="CREATE",
            Parameters=parameters,
        )
    )
    assert message == "Parameter 'Timeout' must be a number not greater than 28"
    nothing_left()


# --- failures roll back --------------------------------------------------------------------------


def test_a_missing_artifact_fails_the_function_and_rolls_back_the_create(artifact: dict[str, str]) -> None:
    described = change_set({**artifact, "ArtifactKey": "functions/missing.zip"}, "CREATE")

    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Outputs" not in described
    seen = events()
    failed = [(lid, reason) for lid, status, reason in seen if status == "CREATE_FAILED"]
    assert len(failed) == 1 and failed[0][0] == "Function"
    assert "S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist." in failed[0][1]
    statuses = [(lid, status) for lid, status, _ in seen]
    assert statuses.index(("Function", "CREATE_FAILED")) < statuses.index((STACK, "ROLLBACK_IN_PROGRESS"))
    assert (
        STACK,
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [Function]. Rollback requested by user.",
    ) in seen
    assert statuses[-1] == (STACK, "ROLLBACK_COMPLETE")
    deleted = [lid for lid, status in statuses if status == "DELETE_COMPLETE"]
    assert deleted.index("FunctionRole") < deleted.index("FunctionLogGroup") < deleted.index("RestApi")
    assert ("ImagesBucket", "DELETE_SKIPPED") in statuses

    assert boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"] == []
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert boto3.client("apigateway").get_rest_apis()["items"] == []
    assert boto3.client("lambda").list_functions()["Functions"] == []
    left = resources()
    assert list(left) == ["ImagesBucket"] and left["ImagesBucket"]["ResourceStatus"] == "DELETE_SKIPPED"
    bucket = left["ImagesBucket"]["PhysicalResourceId"]
    assert bucket in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]

    # As on AWS: a ROLLBACK_COMPLETE stack cannot be updated, only deleted (the bucket is kept).
    message = refused(
        lambda: cfn().create_change_set(
            StackName=STACK,
            TemplateBody=TEMPLATE,
            ChangeSetName="again",
            ChangeSetType="UPDATE",
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in artifact.items()],
        )
    )
    assert "ROLLBACK_COMPLETE state and can not be updated" in message
    cfn().delete_stack(StackName=STACK)
    assert [s["StackStatus"] for s in cfn().list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]
    assert bucket in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]


def test_a_failed_update_rolls_back_to_the_previous_stack(artifact: dict[str, str]) -> None:
    before = change_set(artifact, "CREATE")
    code = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")["CodeSha256"]

    after = change_set(
        {**artifact, "ArtifactKey": "functions/missing.zip", "LogRetentionDays": "60"}, "UPDATE"
    )

    assert after["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    seen = events()
    failed = [(lid, reason) for lid, status, reason in seen if status == "UPDATE_FAILED"]
    assert [lid for lid, _ in failed] == ["Function"] and "NoSuchKey" in failed[0][1]
    assert (
        STACK,
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [Function]. ",
    ) in seen
    # The log group was updated before the function failed; the rollback restored it.
    log_group_updates = [
        status for lid, status, _ in seen if lid == "FunctionLogGroup" and "UPDATE" in status
    ]
    assert log_group_updates == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    logs = boto3.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/resizer-resize")["logGroups"]
    assert [g.get("retentionInDays") for g in groups] == [30]
    config = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")
    assert config["CodeSha256"] == code
    params = {p["ParameterKey"]: p["ParameterValue"] for p in after["Parameters"]}
    assert params["ArtifactKey"] == "functions/one.zip" and str(params["LogRetentionDays"]) == "30"
    assert outputs(after) == outputs(before)
    assert cfn().get_template(StackName=STACK)["TemplateBody"] == TEMPLATE

    # The stack can be updated again, from where it was.
    again = change_set({**artifact, "ArtifactKey": "functions/two.zip"}, "UPDATE")
    assert again["StackStatus"] == "UPDATE_COMPLETE"
    assert (
        boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")["CodeSha256"] != code
    )


def test_an_update_changes_and_replaces_resources(artifact: dict[str, str]) -> None:
    change_set(artifact, "CREATE")
    api_id = resources()["RestApi"]["PhysicalResourceId"]
    client = cfn()
    planned = client.create_change_set(
        StackName=STACK,
        TemplateBody=TEMPLATE,
        ChangeSetName="bigger",
        ChangeSetType="UPDATE",
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {
                **artifact,
                "MemorySize": "2048",
                "StageName": "v2",
                "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
            }.items()
        ],
    )
    changes = {
        c["ResourceChange"]["LogicalResourceId"]
        for c in client.describe_change_set(ChangeSetName=planned["Id"])["Changes"]
    }
    assert {"Function", "Stage", "ErrorsAlarm"} <= changes
    client.execute_change_set(ChangeSetName=planned["Id"])

    described = client.describe_stacks(StackName=STACK)["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(described)["ApiUrl"].endswith(f"{api_id}.execute-api.{REGION}.amazonaws.com/v2")
    assert (
        boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")["MemorySize"] == 2048
    )
    stages = boto3.client("apigateway").get_stages(restApiId=api_id)["item"]
    assert [s["stageName"] for s in stages] == ["v2"]  # the replaced stage is gone
    bucket = outputs(described)["BucketName"]
    rule = boto3.client("s3").get_bucket_website(Bucket=bucket)["RoutingRules"][0]
    assert rule["Redirect"]["ReplaceKeyPrefixWith"] == "v2/"
    alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {tuple(a["AlarmActions"]) for a in alarms} == {("arn:aws:sns:us-east-1:123456789012:ops",)}
    assert len(alarms) == 3  # updated in place, under the same generated names
    assert ("Stage", "DELETE_COMPLETE") in [(lid, status) for lid, status, _ in events()]


def test_deleting_the_stack_removes_its_resources_but_keeps_the_bucket(artifact: dict[str, str]) -> None:
    found = outputs(change_set(artifact, "CREATE"))
    api_id = resources()["RestApi"]["PhysicalResourceId"]
    bucket = found["BucketName"]
    boto3.client("s3").put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    kept_role = resources()["ApiGatewayLogsRoleResource"]["PhysicalResourceId"]

    cfn().delete_stack(StackName=STACK)

    assert [s["StackStatus"] for s in cfn().list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"jpeg"
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)
    assert boto3.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    with pytest.raises(ClientError, match="NotFound"):
        boto3.client("apigateway").get_stage(restApiId=api_id, stageName="prod")
    assert boto3.client("lambda").list_functions()["Functions"] == []
    # API Gateway's CloudWatch role is kept (DeletionPolicy Retain): the account setting still names it.
    assert [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]] == [kept_role]
    statuses = [
        (lid, status) for lid, status, _ in events(cfn().list_stacks()["StackSummaries"][0]["StackId"])
    ]
    assert ("ImagesBucket", "DELETE_SKIPPED") in statuses and statuses[-1] == (STACK, "DELETE_COMPLETE")
    deleted = [lid for lid, status in statuses if status == "DELETE_COMPLETE"]
    assert deleted.index("Stage") < deleted.index("Deployment") < deleted.index("RestApi")


# --- the operations layer over the patched moto ---------------------------------------------------


def test_operations_deploy_succeeds_then_reports_a_failed_update(
    aws: None, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = Clients(boto3.Session(region_name=REGION))
    settings = Settings(Target(stack=STACK, region=REGION))

    first = deploy.plan(clients, settings, sleep=lambda s: None)
    settled = list(deploy.execute(clients, first, sleep=lambda s: None, poll=0))[-1]
    assert settled.status == "CREATE_COMPLETE"

    fake_build.code = "def handler(event, context):\n    return {'statusCode': 500}\n"
    planned = deploy.plan(clients, Settings(settings.target, {"MemorySize": "1536"}), sleep=lambda s: None)
    changes = sorted((c.action, c.logical_id) for c in planned.changes)
    assert changes == [("Modify", "CleanupFunction"), ("Modify", "Function")]  # one zip, two handlers
    assert planned.artifact is not None and planned.artifact.key != first.parameters["ArtifactKey"]
    # The zip goes up when the plan is executed: make that upload go nowhere, so it is missing.
    monkeypatch.setattr(package, "publish", lambda clients, artifact: None)
    with pytest.raises(DeployFailed) as caught:
        list(deploy.execute(clients, planned, sleep=lambda s: None, poll=0))
    assert caught.value.resource == "Function"
    assert "NoSuchKey" in caught.value.reason
    assert "UPDATE_ROLLBACK_COMPLETE" in caught.value.message
    config = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")
    assert config["MemorySize"] == 1024  # the update was rolled back


def test_operations_deploy_of_a_missing_artifact_fails_on_the_function(
    aws: None, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = Clients(boto3.Session(region_name=REGION))
    planned = deploy.plan(clients, Settings(Target(stack=STACK, region=REGION)), sleep=lambda s: None)
    assert planned.artifact is not None
    monkeypatch.setattr(package, "publish", lambda clients, artifact: None)  # the upload goes nowhere

    with pytest.raises(DeployFailed) as caught:
        list(deploy.execute(clients, planned, sleep=lambda s: None, poll=0))

    assert caught.value.resource == "Function"
    assert "S3 Error Code: NoSuchBucket" in caught.value.reason  # nothing was ever published
    assert "ROLLBACK_COMPLETE" in caught.value.message


def test_equals_compares_strings_so_unreserved_concurrency_stays_unreserved():
    from moto.cloudformation import parsing

    from localcloud import cloudformation as fidelity

    fidelity.install()
    try:
        condition = {"Fn::Not": [{"Fn::Equals": [-1, "-1"]}]}
        assert parsing.parse_condition(condition, None, {}) is False
        assert parsing.parse_condition({"Fn::Equals": [True, "true"]}, None, {}) is True
    finally:
        fidelity.uninstall()
