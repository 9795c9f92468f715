"""The template's abuse and cost bounds: stage throttling, memory and timeout bounds, the signing
key in SSM with a grant on exactly that parameter, API access logs with a retention, X-Ray as an
off-by-default parameter (checkov CKV_AWS_73/76/173)."""

from tests.cloudformation.conftest import statements


def role_statements(resources: dict) -> list:
    return statements(resources["FunctionRole"])


def conditional(found: list, sid: str) -> tuple[str, dict]:
    """(condition, statement) of a statement that exists only under a condition."""
    for item in found:
        if "_condition" in item and item.get("Sid") == sid:
            return item["_condition"], item
    raise AssertionError(f"no conditional statement {sid}")


def test_the_stage_throttles_every_method_with_parameters(params, resources):
    stage = resources["Stage"]["Properties"]
    (setting,) = stage["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert setting["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurstLimit"}
    rate, burst = params["ThrottleRateLimit"], params["ThrottleBurstLimit"]
    assert (rate["Type"], burst["Type"]) == ("Number", "Number")
    # Sane defaults: far under the account's 10,000/s and 5,000 burst, a burst above the rate.
    assert 0 < rate["Default"] < burst["Default"] <= 1000
    assert (rate["MinValue"], rate["MaxValue"], burst["MinValue"], burst["MaxValue"]) == (0, 10000, 0, 5000)


def test_memory_is_enough_for_a_50_mp_source_and_the_timeout_is_under_api_gateways(params):
    assert params["MemorySize"]["MinValue"] == 1024 <= params["MemorySize"]["Default"]
    assert params["MaxSourcePixels"]["Default"] == 50_000_000  # what the 1024 MB floor is sized for
    timeout = params["Timeout"]
    assert timeout["MaxValue"] == 28 and timeout["Default"] <= 28  # API Gateway gives up at 29 s


def test_the_key_is_an_ssm_parameter_name_never_a_value(params, resources):
    assert not [name for name, spec in params.items() if spec.get("NoEcho")]
    assert "SigningKey" not in params
    env = resources["Function"]["Properties"]["Environment"]["Variables"]
    assert "SIGNING_KEY" not in env
    assert env["SIGNING_KEY_PARAMETER"] == {"Ref": "SigningKeyParameter"}
    assert env["SIGNING_KEY_VERSION"] == {"Ref": "SigningKeyVersion"}
    assert params["SigningKeyParameter"]["Default"] == ""
    assert params["SigningKeyVersion"]["Default"] == 0


def test_the_function_may_read_exactly_that_parameter_and_decrypt_only_its_value(resources, template):
    statements = role_statements(resources)
    condition, read = conditional(statements, "ReadTheSigningKeyOnly")
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SigningKeyParameter"}, ""]}]
    }
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SigningKeyParameter}"
    assert read["Action"] == "ssm:GetParameter" and read["Resource"] == {"Fn::Sub": arn}
    condition, decrypt = conditional(statements, "DecryptTheSigningKeyOnly")
    assert condition == "HasSigningKey" and decrypt["Action"] == "kms:Decrypt"
    only = decrypt["Condition"]["StringEquals"]
    assert only["kms:ViaService"] == {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"}
    assert only["kms:EncryptionContext:PARAMETER_ARN"] == {"Fn::Sub": arn}


def test_the_parameter_name_starts_with_a_slash_so_the_arn_is_well_formed(params):
    import re

    pattern = params["SigningKeyParameter"]["AllowedPattern"]
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, "/resizer/prod/signing-key")
    assert not re.fullmatch(pattern, "resizer/prod/signing-key")
    assert not re.fullmatch(pattern, "/with space")


def test_access_logs_go_to_their_own_group_with_a_retention(resources, template):
    access = resources["Stage"]["Properties"]["AccessLogSetting"]
    arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${ApiAccessLogGroup}"
    assert access["DestinationArn"] == {"Fn::Sub": arn}  # API Gateway's documented form, no ":*"
    assert "$context.requestId" in access["Format"]  # API Gateway refuses a format without it
    assert "$context.status" in access["Format"]
    assert "querystring" not in access["Format"].lower()  # signatures are not logged
    group = resources["ApiAccessLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Outputs"]["ApiAccessLogGroupName"]["Value"] == {"Ref": "ApiAccessLogGroup"}


def test_the_accounts_api_gateway_role_is_created_only_when_asked_and_kept(params, resources, template):
    assert params["ApiGatewayLogsRole"]["AllowedValues"] == ["create", "existing"]
    role, account = resources["ApiGatewayLogsRoleResource"], resources["ApiGatewayAccount"]
    assert role["Condition"] == account["Condition"] == "CreatesApiGatewayLogsRole"
    assert role["DeletionPolicy"] == account["DeletionPolicy"] == "Retain"  # the account setting names it
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    (policy,) = role["Properties"]["ManagedPolicyArns"]
    assert policy["Fn::Sub"].endswith(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRoleResource", "Arn"]}
    # The stage waits for the account's role when this stack sets it (a Ref under the same condition).
    description = resources["Stage"]["Properties"]["Description"]["Fn::If"]
    assert (
        description[0] == "CreatesApiGatewayLogsRole" and "${ApiGatewayAccount}" in description[1]["Fn::Sub"]
    )


def test_xray_is_one_parameter_for_the_stage_and_the_function_and_off_by_default(params, resources, template):
    assert params["Tracing"]["AllowedValues"] == ["PassThrough", "Active"]
    assert params["Tracing"]["Default"] == "PassThrough"
    assert template["Conditions"]["HasTracing"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    assert resources["Stage"]["Properties"]["TracingEnabled"] == {"Fn::If": ["HasTracing", True, False]}
    assert resources["Function"]["Properties"]["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}
    condition, traces = conditional(role_statements(resources), "SendTraces")
    assert condition == "HasTracing"
    assert sorted(traces["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_the_cache_key_carries_the_signature_only_when_a_key_is_named(resources):
    config = resources["CachePolicy"]["Properties"]["CachePolicyConfig"]
    strings = config["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["Fn::If"]
    assert strings[0] == "HasSigningKey" and strings[1]["QueryStrings"] == ["sig", "expires"]


def test_every_parameter_is_in_the_console_groups(template, params):
    """The CloudFormation console lists an ungrouped parameter apart, under "Other parameters"."""
    grouped = [
        name
        for group in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for name in group["Parameters"]
    ]
    assert sorted(grouped) == sorted(params), "each parameter in exactly one group"
