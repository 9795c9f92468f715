"""End to end, the production bounds against a real local-cloud server process: the signing key in
SSM (read by the local Lambda over HTTP), stage throttling (429), access logs, and API Gateway's
refusal of access logging without the account's CloudWatch role.

The tests share one cloud and run in file order.
"""

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import deploy, local, template
from operations.aws import Clients
from operations.config import Settings, Target
from operations.errors import ConfigError
from resizer_function.signing import sign

KEY = "hardening-e2e-key-7f3a"
NEW_KEY = "hardening-e2e-key-rotated-91c2"
STACK = "hard"
RATE, BURST = 1, 6


class Cloud:
    def __init__(self, url: str, ready: local.Ready, refusal: ConfigError, failed_stack: dict) -> None:
        self.url, self.ready, self.refusal, self.failed_stack = url, ready, refusal, failed_stack

    def client(self, service: str) -> Any:
        return Clients.for_local_cloud(self.url).client(service, retries=False)

    @property
    def api(self) -> str:
        return self.ready.outputs["ApiUrl"]


def provision(url: str, **parameters: str) -> local.Ready:
    events = local.provision(url, stack_name=STACK, parameters=parameters, sleep=lambda s: None)
    return [e for e in events if isinstance(e, local.Ready)][-1]


# A stage with access logging and nothing else (an HTTP proxy method): what API Gateway checks first.
ACCESS_LOGGED_STAGE = {
    "Resources": {
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/refused/access"}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "refused"}},
        "Method": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": "GET",
                "AuthorizationType": "NONE",
                "Integration": {
                    "Type": "HTTP_PROXY",
                    "IntegrationHttpMethod": "GET",
                    "Uri": "https://example.com",
                },
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": "Method",
            "Properties": {"RestApiId": {"Ref": "Api"}},
        },
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "DeploymentId": {"Ref": "Deployment"},
                "StageName": "prod",
                "AccessLogSetting": {
                    "DestinationArn": {"Fn::GetAtt": ["Group", "Arn"]},
                    "Format": '{"requestId":"$context.requestId"}',
                },
            },
        },
    }
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    os.environ["RESIZER_CACHE_DIR"] = str(tmp_path_factory.mktemp("hardening-cache"))
    with local_cloud(tmp_path_factory.mktemp("hardening-local"), free_port()) as url:
        clients = Clients.for_local_cloud(url)
        # A fresh account has no API Gateway CloudWatch role: "existing" is refused before any change...
        target = Target(stack=STACK, region=local.LOCAL_REGION, endpoint_url=url)
        try:
            deploy.plan(clients, Settings(target, {"ApiGatewayLogsRole": "existing"}), platform="local")
        except ConfigError as exc:
            refusal = exc
        else:
            raise AssertionError("deploy accepted ApiGatewayLogsRole=existing without the account's role")
        # ...and CloudFormation itself fails a stage with access logging, as API Gateway refuses it.
        cfn = clients.client("cloudformation")
        cfn.create_stack(StackName="refused", TemplateBody=json.dumps(ACCESS_LOGGED_STAGE))
        for _ in range(600):
            failed = cfn.describe_stacks(StackName="refused")["Stacks"][0]
            if not failed["StackStatus"].endswith("IN_PROGRESS"):
                break
            time.sleep(0.1)
        events = cfn.describe_stack_events(StackName="refused")["StackEvents"]
        failed["events"] = [(e["LogicalResourceId"], e.get("ResourceStatusReason", "")) for e in events]
        ready = provision(url, SigningKey=KEY, ThrottleRateLimit=str(RATE), ThrottleBurstLimit=str(BURST))
        yield Cloud(url, ready, refusal, failed)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=120) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for_a_full_bucket() -> None:
    time.sleep(BURST / RATE + 0.5)


def test_access_logging_without_the_accounts_role_is_refused_as_api_gateway_does(cloud):
    assert "no CloudWatch Logs role" in cloud.refusal.message
    assert "ApiGatewayLogsRole=create" in cloud.refusal.hint
    assert cloud.failed_stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [reason for lid, reason in cloud.failed_stack["events"] if lid == "Stage"]
    assert any(
        "CloudWatch Logs role ARN must be set in account settings to enable logging" in r for r in reasons
    )


def test_the_stack_set_the_accounts_role_and_the_stage_has_its_settings(cloud):
    apigw = cloud.client("apigateway")
    role = apigw.get_account()["cloudwatchRoleArn"]
    trust = cloud.client("iam").get_role(RoleName=role.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
    assert "apigateway.amazonaws.com" in json.dumps(trust)
    api_id = cloud.api.split("/_aws/execute-api/")[1].split("/")[0]
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    throttle = stage["methodSettings"]["*/*"]
    assert (throttle["throttlingRateLimit"], throttle["throttlingBurstLimit"]) == (RATE, BURST)
    assert (
        stage["accessLogSettings"]["destinationArn"]
        .split(":log-group:")[1]
        .startswith("/aws/apigateway/hard")
    )
    assert stage.get("tracingEnabled") is False  # X-Ray off by default (cost)
    function = cloud.client("lambda").get_function_configuration(FunctionName=f"{STACK}-resize")
    assert function["TracingConfig"]["Mode"] == "PassThrough"


def test_the_key_is_a_securestring_never_an_environment_variable(cloud):
    function = cloud.client("lambda").get_function_configuration(FunctionName=f"{STACK}-resize")
    variables = function["Environment"]["Variables"]
    assert KEY not in json.dumps(variables)
    assert variables["SIGNING_KEY_PARAMETER"] == f"/resizer/{STACK}/signing-key"
    found = cloud.client("ssm").get_parameter(Name=variables["SIGNING_KEY_PARAMETER"], WithDecryption=True)
    assert (found["Parameter"]["Type"], found["Parameter"]["Value"]) == ("SecureString", KEY)
    assert variables["SIGNING_KEY_VERSION"] == str(found["Parameter"]["Version"])
    stack = cloud.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert KEY not in json.dumps(stack, default=str)
    # The role may read exactly that parameter; X-Ray is off, so no trace grant (and no null statement).
    iam = cloud.client("iam")
    role = function["Role"].rsplit("/", 1)[1]
    (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    grants = {s["Sid"]: s for s in document["Statement"]}
    assert grants["ReadTheSigningKeyOnly"]["Resource"] == found["Parameter"]["ARN"]
    assert grants["ReadTheSigningKeyOnly"]["Action"] == "ssm:GetParameter"
    assert "SendTraces" not in grants and "DecryptTheSigningKeyOnly" in grants


def test_a_signed_url_is_served_and_an_unsigned_one_refused(cloud):
    wait_for_a_full_bucket()
    status, body = get(f"{cloud.api}/120x80/sample.jpg")
    assert status == 403 and json.loads(body)["error"] == "signature_required"
    query = sign("/120x80/sample.jpg", KEY)
    status, body = get(f"{cloud.api}/120x80/sample.jpg?{query}")
    assert status == 200 and body[:3] == b"\xff\xd8\xff"  # the local Lambda read the key from SSM
    status, body = get(f"{cloud.api}/120x80/sample.jpg?{sign('/120x80/sample.jpg', 'another key')}")
    assert status == 403 and json.loads(body)["error"] == "invalid_signature"


def test_resizer_sign_prints_a_url_the_function_accepts_and_never_the_key(cloud):
    from typer.testing import CliRunner

    from cli.app import app

    def sign_cli(*args: str):
        where = ["--endpoint-url", cloud.url, "--stack", STACK]
        return CliRunner().invoke(app, ["sign", *args, *where])

    result = sign_cli("140x/sample.jpg", "--expires", "600")
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(cloud.ready.outputs["CdnUrl"] + "/140x/sample.jpg?expires=") and KEY not in url
    wait_for_a_full_bucket()
    status, body = get(url)  # through the local CloudFront: S3 misses, the API renders
    assert status == 200 and body[:3] == b"\xff\xd8\xff"
    refused = sign_cli("nothing")
    assert refused.exit_code == 2 and "invalid path" in refused.output


def test_a_burst_within_the_limit_passes_and_beyond_it_gets_429(cloud):
    wait_for_a_full_bucket()
    url = f"{cloud.api}/10x/nothing-here.jpg"  # the function answers 403 at once: a cheap request
    with ThreadPoolExecutor(BURST) as pool:
        within = list(pool.map(lambda _: get(url), range(BURST)))
    assert [status for status, _ in within] == [403] * BURST
    with ThreadPoolExecutor(4) as pool:
        beyond = list(pool.map(lambda _: get(url), range(3 * BURST)))
    throttled = [body for status, body in beyond if status == 429]
    assert len(throttled) >= 2 * BURST, [status for status, _ in beyond]
    assert all(json.loads(body) == {"message": "Too Many Requests"} for body in throttled)


def test_every_api_request_is_an_access_log_line_in_the_stages_group(cloud):
    logs = cloud.client("logs")
    group = cloud.ready.outputs["ApiAccessLogGroupName"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 30
    lines = [json.loads(e["message"]) for e in logs.filter_log_events(logGroupName=group)["events"]]
    statuses = [line["status"] for line in lines]
    assert statuses.count("429") >= 2 * BURST and "200" in statuses and "403" in statuses
    throttled = next(line for line in lines if line["status"] == "429")
    assert throttled["path"] == "/prod/10x/nothing-here.jpg" and throttled["httpMethod"] == "GET"
    assert throttled["error"] == "Too Many Requests" and throttled["requestId"] not in ("", "-")
    assert not [line for line in lines if "sig=" in json.dumps(line)]  # no query strings (signatures)


def test_a_new_key_reaches_the_function_and_the_old_one_stops_working(cloud):
    before = cloud.client("ssm").get_parameter(Name=f"/resizer/{STACK}/signing-key")["Parameter"]["Version"]
    ready = provision(cloud.url, SigningKey=NEW_KEY)
    variables = cloud.client("lambda").get_function_configuration(FunctionName=f"{STACK}-resize")[
        "Environment"
    ]
    assert variables["Variables"]["SIGNING_KEY_VERSION"] == str(before + 1)
    wait_for_a_full_bucket()
    path = "/130x90/sample.jpg"
    assert get(f"{ready.outputs['ApiUrl']}{path}?{sign(path, NEW_KEY)}")[0] == 200
    assert get(f"{ready.outputs['ApiUrl']}{path}?{sign(path, KEY)}")[0] == 403
    # A deploy without SigningKey keeps it (UsePreviousValue): no new version, signing stays on.
    provision(cloud.url, MemorySize="1536")
    ssm = cloud.client("ssm")
    assert ssm.get_parameter(Name=f"/resizer/{STACK}/signing-key")["Parameter"]["Version"] == before + 1
    wait_for_a_full_bucket()
    assert get(f"{ready.outputs['ApiUrl']}{path}")[0] == 403


def test_memory_under_1024_and_a_timeout_at_api_gateways_limit_are_refused_before_any_call(cloud):
    target = Target(stack=STACK, region=local.LOCAL_REGION, endpoint_url=cloud.url)
    clients = Clients.for_local_cloud(cloud.url)
    for given, named in (({"MemorySize": "512"}, "at least 1024"), ({"Timeout": "29"}, "at most 28")):
        with pytest.raises(ConfigError) as caught:
            deploy.plan(clients, Settings(target, given), platform="local")
        assert named in caught.value.message
    with pytest.raises(ClientError):  # and CloudFormation agrees, for a caller that skips the CLI
        cloud.client("cloudformation").create_stack(
            StackName="tiny",
            TemplateBody=template.DEFAULT_TEMPLATE.read_text(),
            Parameters=[
                {"ParameterKey": "ArtifactBucket", "ParameterValue": "bucket"},
                {"ParameterKey": "ArtifactKey", "ParameterValue": "key"},
                {"ParameterKey": "MemorySize", "ParameterValue": "512"},
            ],
            Capabilities=["CAPABILITY_IAM"],
        )
