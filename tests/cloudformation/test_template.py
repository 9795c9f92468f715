"""The production CloudFormation template: cfn-lint clean, and the facts the request flow relies on."""

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from resizer_function.settings import REDIRECT_STATUSES, Settings
from tests import stack_outputs
from tests.cloudformation.conftest import TEMPLATE, as_list, statements

ROOT = Path(__file__).resolve().parents[2]
# Resource types and property values are checked against each region's schema.
REGIONS = ["us-east-1", "eu-central-1", "ap-southeast-4"]
FUNCTION_ENV = {
    "BUCKET",
    "DELIVERY",
    "PUBLIC_URL",
    "ALLOWED_SIZES",
    "MAX_DIMENSION",
    "MAX_SOURCE_BYTES",
    "MAX_SOURCE_PIXELS",
    "RESPONSE_MODE",
    "REDIRECT_STATUS",
    "SIGNING_KEY_PARAMETER",
    "SIGNING_KEY_VERSION",
}


@pytest.fixture(scope="module")
def lint_matches():
    return lint_file(TEMPLATE, config=ManualArgs(regions=REGIONS))


def of_type(resources: dict, kind: str) -> list[dict]:
    """The request flow's resources of a type (the cleanup's own, Cleanup*, are tested in
    test_template_derived.py)."""
    return [r for name, r in resources.items() if r["Type"] == kind and not name.startswith("Cleanup")]


def one(resources: dict, kind: str) -> dict:
    found = of_type(resources, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def logical_id(resources: dict, kind: str) -> str:
    (name,) = [name for name, r in resources.items() if r["Type"] == kind and not name.startswith("Cleanup")]
    return name


def walk(node):
    """Every value in a decoded template node, depth first."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_cfn_lint_finds_no_error_and_no_warning(lint_matches):
    problems = [m for m in lint_matches if m.rule.severity in ("error", "warning")]
    assert not problems, "\n".join(str(m) for m in problems)


def test_every_resource_the_flow_needs_is_there(resources):
    counts = Counter(r["Type"] for name, r in resources.items() if not name.startswith("Cleanup"))
    expected = {
        "AWS::S3::Bucket": 1,
        "AWS::S3::BucketPolicy": 1,  # its statement depends on the delivery mode
        "AWS::Lambda::Function": 1,
        "AWS::Logs::LogGroup": 2,  # the function's, the API's access logs
        "AWS::IAM::Role": 2,  # the function's, API Gateway's CloudWatch role (ApiGatewayLogsRole=create)
        "AWS::ApiGateway::Account": 1,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::Resource": 1,
        "AWS::ApiGateway::Method": 1,
        "AWS::ApiGateway::Deployment": 1,
        "AWS::ApiGateway::Stage": 1,
        "AWS::Lambda::Permission": 1,
        "AWS::CloudWatch::Alarm": 3,
        "AWS::CloudFront::Distribution": 1,
        "AWS::CloudFront::OriginAccessControl": 1,
        "AWS::CloudFront::CachePolicy": 1,
        "AWS::CloudFront::OriginRequestPolicy": 1,
    }
    assert dict(counts) == expected


def test_template_is_plain_cloudformation(template):
    assert "Transform" not in template


def test_outputs_are_the_documented_set_each_described(template):
    outputs = template["Outputs"]
    assert set(outputs) == stack_outputs.DECLARED
    assert all(o.get("Description") for o in outputs.values())
    assert outputs["WebsiteUrl"]["Value"] == {"Fn::GetAtt": ["ImagesBucket", "WebsiteURL"]}
    assert outputs["WebsiteUrl"]["Condition"] == "IsWebsite"
    assert outputs["CdnUrl"]["Condition"] == outputs["DistributionId"]["Condition"] == "IsCdn"
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}
    custom, default = outputs["CdnUrl"]["Value"]["Fn::If"][1:]
    assert custom == {"Fn::Sub": "https://${DomainName}"}
    assert default == {"Fn::Sub": "https://${Distribution.DomainName}"}, "https, no trailing slash"
    api_url = outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert api_url.startswith("https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")


def test_every_parameter_is_described(template):
    missing = [name for name, p in template["Parameters"].items() if not p.get("Description")]
    assert not missing


def test_bucket_survives_stack_deletion_and_replacement(resources):
    bucket = one(resources, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_delivery_is_cdn_by_default_or_website(template):
    delivery = template["Parameters"]["Delivery"]
    assert delivery["AllowedValues"] == ["cdn", "website"] and delivery["Default"] == "cdn"
    conditions = template["Conditions"]
    assert conditions["IsCdn"] == {"Fn::Equals": [{"Ref": "Delivery"}, "cdn"]}
    assert conditions["IsWebsite"] == {"Fn::Equals": [{"Ref": "Delivery"}, "website"]}


def test_bucket_is_encrypted_owner_enforced_and_never_public_through_acls(resources):
    props = one(resources, "AWS::S3::Bucket")["Properties"]
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        # cdn: fully blocked (CKV_AWS_54, CKV_AWS_56); website: the public policy must be allowed.
        "BlockPublicPolicy": {"Fn::If": ["IsCdn", True, False]},
        "RestrictPublicBuckets": {"Fn::If": ["IsCdn", True, False]},
    }


def policy_statements(resources) -> tuple[dict, dict]:
    """The bucket policy's (cdn, website) statements: one resource, its statement by the mode."""
    policy = one(resources, "AWS::S3::BucketPolicy")
    assert "Condition" not in policy, "one resource in both modes: a switch updates it in place"
    assert policy["Properties"]["Bucket"] == {"Ref": "ImagesBucket"}
    (chosen,) = policy["Properties"]["PolicyDocument"]["Statement"]
    condition, cdn, website = chosen["Fn::If"]
    assert condition == "IsCdn"
    return cdn, website


def test_the_website_policy_lets_anyone_read_objects_and_nothing_more(resources):
    _, statement = policy_statements(resources)
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == "*"
    assert as_list(statement["Action"]) == ["s3:GetObject"]
    assert statement["Resource"] == {"Fn::Sub": "${ImagesBucket.Arn}/*"}


def test_cdn_mode_keeps_the_bucket_private_to_this_distribution(resources):
    statement, _ = policy_statements(resources)
    assert statement.get("Principal") not in ("*", {"AWS": "*"}), "no public statement"
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Resource"] == {"Fn::Sub": "${ImagesBucket.Arn}/*"}
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
            }
        }
    }
    # Only GetObject, no ListBucket: S3 answers a missing object with 403, the failover code below.
    assert as_list(statement["Action"]) == ["s3:GetObject"]


def test_the_distribution_reads_s3_through_oac_and_fails_over_to_the_api_on_s3s_missing_code(resources):
    distribution = resources["Distribution"]
    assert distribution["Condition"] == "IsCdn"
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    bucket, api = origins["images-bucket"], origins["resizer-api"]
    assert bucket["DomainName"] == {"Fn::GetAtt": ["ImagesBucket", "RegionalDomainName"]}, "REST, not website"
    assert bucket["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert bucket["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac = resources["OriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert api["DomainName"] == {"Fn::Sub": "${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert api["OriginPath"] == {"Fn::Sub": "/${StageName}"}, "the parameter, not the Stage: no cycle"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"

    (group,) = config["OriginGroups"]["Items"]
    assert config["OriginGroups"]["Quantity"] == 1
    assert [m["OriginId"] for m in group["Members"]["Items"]] == ["images-bucket", "resizer-api"]
    codes = group["FailoverCriteria"]["StatusCodes"]
    # The bucket policy grants GetObject without ListBucket, so a missing object is S3's 403.
    grants = set(as_list(policy_statements(resources)[0]["Action"]))
    assert codes["Items"] == ([404] if "s3:ListBucket" in grants else [403]) and codes["Quantity"] == 1

    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == group["Id"]
    # CloudFront fails over only for GET, HEAD and OPTIONS: no other method may be allowed.
    assert set(behaviour["AllowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is False
    assert behaviour["CachePolicyId"] == {"Ref": "CachePolicy"}
    assert behaviour["OriginRequestPolicyId"] == {"Ref": "OriginRequestPolicy"}
    assert config["HttpVersion"] == "http2and3"


def test_the_cache_key_is_the_path_and_the_signature_only(resources):
    key = resources["CachePolicy"]["Properties"]["CachePolicyConfig"][
        "ParametersInCacheKeyAndForwardedToOrigin"
    ]
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] is False and key["EnableAcceptEncodingBrotli"] is False
    signed, unsigned = key["QueryStringsConfig"]["Fn::If"][1:]
    assert key["QueryStringsConfig"]["Fn::If"][0] == "HasSigningKey"
    assert signed == {"QueryStringBehavior": "whitelist", "QueryStrings": ["sig", "expires"]}
    assert unsigned == {"QueryStringBehavior": "none"}


def test_the_viewer_host_never_reaches_api_gateway(resources):
    forwarded = resources["OriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    headers = forwarded["HeadersConfig"]
    assert headers["HeaderBehavior"] in ("none", "whitelist")
    assert "host" not in [h.lower() for h in headers.get("Headers", [])]
    assert [h.lower() for h in headers.get("Headers", [])] == ["accept"], "API Gateway's binary decision"
    assert forwarded["CookiesConfig"] == {"CookieBehavior": "none"}
    assert forwarded["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_a_custom_domain_needs_its_certificate(template, resources):
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == {
        "Fn::If": ["HasCustomDomain", [{"Ref": "DomainName"}], {"Ref": "AWS::NoValue"}]
    }
    custom, default = config["ViewerCertificate"]["Fn::If"][1:]
    assert (
        custom["AcmCertificateArn"] == {"Ref": "CertificateArn"} and custom["SslSupportMethod"] == "sni-only"
    )
    assert default == {"CloudFrontDefaultCertificate": True}
    assert ":acm:us-east-1:" in template["Parameters"]["CertificateArn"]["AllowedPattern"]
    assert "CustomDomainNeedsItsCertificate" in template["Rules"]


def test_website_sends_404s_to_the_api_stage_keeping_the_key(resources):
    configured = one(resources, "AWS::S3::Bucket")["Properties"]["WebsiteConfiguration"]
    condition, website, otherwise = configured["Fn::If"]
    assert (condition, otherwise) == ("IsWebsite", {"Ref": "AWS::NoValue"})
    assert website["IndexDocument"] == "index.html"
    (rule,) = website["RoutingRules"]
    assert rule["RoutingRuleCondition"] == {"HttpErrorCodeReturnedEquals": "404"}
    redirect = rule["RedirectRule"]
    api = logical_id(resources, "AWS::ApiGateway::RestApi")
    assert redirect["HostName"] == {"Fn::Sub": f"${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"}
    assert redirect["Protocol"] == "https"
    assert redirect["HttpRedirectCode"] == "307"
    # The prefix is the stage the Stage resource deploys: the same parameter, so they cannot drift.
    assert redirect["ReplaceKeyPrefixWith"] == {"Fn::Sub": "${StageName}/"}
    assert one(resources, "AWS::ApiGateway::Stage")["Properties"]["StageName"] == {"Ref": "StageName"}
    assert "ReplaceKeyWith" not in redirect


def test_function_runtime_code_and_limits(template, resources):
    props = one(resources, "AWS::Lambda::Function")["Properties"]
    params = template["Parameters"]
    assert props["Runtime"] == "python3.12"
    assert props["Handler"] == "resizer_function.handler.handler"
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "ArtifactKey"}}
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    assert params["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert params["Architecture"]["Default"] == "arm64"
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    assert (params["MemorySize"]["Default"], params["MemorySize"]["MinValue"]) == (1024, 1024)
    assert params["MemorySize"]["MaxValue"] == 10240
    # API Gateway gives up after 29 s: a longer function would keep working for nobody.
    assert props["Timeout"] == {"Ref": "Timeout"}
    assert params["Timeout"]["MaxValue"] <= 29
    assert params["Timeout"]["Default"] <= 29


def test_reserved_concurrency_is_left_out_unless_set(template, resources):
    props = one(resources, "AWS::Lambda::Function")["Properties"]
    condition, value, otherwise = props["ReservedConcurrentExecutions"]["Fn::If"]
    assert value == {"Ref": "ReservedConcurrency"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "-1"]}]
    }
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == -1


def test_function_sets_every_variable_the_code_reads(resources):
    env = one(resources, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    source = (ROOT / "resizer_function" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'(?:env\.get|number)\("([A-Z_]+)"', source))
    assert read == FUNCTION_ENV, "settings.py reads other variables than this test knows"
    missing = FUNCTION_ENV - set(env)
    assert not missing, f"the function does not set {sorted(missing)}"
    assert env["BUCKET"] == {"Ref": logical_id(resources, "AWS::S3::Bucket")}
    assert env["PUBLIC_URL"] == {
        "Fn::If": [
            "IsCdn",
            {
                "Fn::If": [
                    "HasCustomDomain",
                    {"Fn::Sub": "https://${DomainName}"},
                    {"Fn::Sub": "https://${Distribution.DomainName}"},
                ]
            },
            {"Fn::GetAtt": ["ImagesBucket", "WebsiteURL"]},
        ]
    }
    assert env["DELIVERY"] == {"Ref": "Delivery"}
    assert env["SIGNING_KEY_PARAMETER"] == {"Ref": "SigningKeyParameter"}
    assert env["SIGNING_KEY_VERSION"] == {"Ref": "SigningKeyVersion"}


def test_parameter_defaults_match_the_code_defaults(template):
    params = template["Parameters"]
    defaults = {f.name: f.default for f in dataclasses.fields(Settings) if f.name != "bucket"}
    assert str(params["MaxDimension"]["Default"]) == str(defaults["max_dimension"])
    assert str(params["MaxSourceBytes"]["Default"]) == str(defaults["max_source_bytes"])
    assert str(params["MaxSourcePixels"]["Default"]) == str(defaults["max_source_pixels"])
    assert params["ResponseMode"]["Default"] == defaults["response_mode"]
    assert str(params["RedirectStatus"]["Default"]) == str(defaults["redirect_status"])
    assert [int(v) for v in params["RedirectStatus"]["AllowedValues"]] == list(REDIRECT_STATUSES)
    assert params["AllowedSizes"]["Default"] == ""
    assert params["SigningKeyParameter"]["Default"] == ""
    assert str(params["SigningKeyVersion"]["Default"]) == str(defaults["signing_key_version"])
    assert not [name for name, spec in params.items() if spec.get("NoEcho")]  # the key lives in SSM


def test_function_logs_to_its_own_log_group(template, resources):
    props = one(resources, "AWS::Lambda::Function")["Properties"]
    group_id = "FunctionLogGroup"
    group = resources[group_id]["Properties"]
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": group_id}
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + props["FunctionName"]["Fn::Sub"]}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_role_is_least_privilege(resources):
    role = resources["FunctionRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert not of_type(resources, "AWS::IAM::Policy")
    assert not of_type(resources, "AWS::IAM::ManagedPolicy")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert as_list(trust["Action"]) == ["sts:AssumeRole"]

    # The signing key's and X-Ray's grants exist only when used (test_template_hardening.py).
    always = [s for s in statements(resources["FunctionRole"]) if "_condition" not in s]
    assert all(s["Effect"] == "Allow" for s in always)
    grants = {action: s["Resource"] for s in always for action in as_list(s["Action"])}
    assert grants == {
        "s3:GetObject": {"Fn::Sub": "${ImagesBucket.Arn}/*"},
        "s3:PutObject": {"Fn::Sub": "${ImagesBucket.Arn}/*"},
        "s3:PutObjectTagging": {"Fn::Sub": "${ImagesBucket.Arn}/*"},
        "s3:ListBucket": {"Fn::GetAtt": ["ImagesBucket", "Arn"]},
        "logs:CreateLogStream": {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]},
        "logs:PutLogEvents": {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]},
    }
    literals = [v for s in always for v in walk(s["Resource"]) if isinstance(v, str)]
    assert not [v for v in literals if v == "*" or v.endswith(":*")]


def test_api_is_regional_binary_and_proxies_get_to_the_function(resources):
    api = one(resources, "AWS::ApiGateway::RestApi")["Properties"]
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    assert api["BinaryMediaTypes"] == ["*/*"]
    assert one(resources, "AWS::ApiGateway::Resource")["Properties"]["PathPart"] == "{proxy+}"

    method = one(resources, "AWS::ApiGateway::Method")["Properties"]
    assert method["HttpMethod"] == "GET"
    assert method["AuthorizationType"] == "NONE"
    integration = method["Integration"]
    assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
    assert "${Function.Arn}/invocations" in integration["Uri"]["Fn::Sub"]


def test_deployment_waits_for_the_method_and_the_stage_uses_it(resources):
    deployment_id = logical_id(resources, "AWS::ApiGateway::Deployment")
    depends = as_list(resources[deployment_id].get("DependsOn", []))
    assert logical_id(resources, "AWS::ApiGateway::Method") in depends
    stage = one(resources, "AWS::ApiGateway::Stage")["Properties"]
    assert stage["DeploymentId"] == {"Ref": deployment_id}
    assert "StageName" not in resources[deployment_id]["Properties"]  # the Stage resource owns the stage


def test_only_this_api_may_invoke_the_function_and_only_with_get(resources):
    permission = one(resources, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["Function", "Arn"]}
    assert permission["SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/*/GET/*"
    }


def test_alarms_watch_the_functions_errors_and_throttles(resources):
    alarms = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm")]
    watched = sorted((a["Namespace"], a["MetricName"]) for a in alarms)
    assert watched == [("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"), ("Resizer", "Errors")]
    function = {"Name": "FunctionName", "Value": {"Ref": "Function"}}
    for alarm in alarms:
        if alarm["Namespace"] == "Resizer":  # the handler's own 500s, from its EMF lines
            assert alarm["Dimensions"] == [function, {"Name": "ErrorCode", "Value": "internal_error"}]
        else:
            assert alarm["Dimensions"] == [function]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Threshold"] >= 1
