"""A stage's MethodSettings and AccessLogSetting, for the local cloud.

API Gateway writes access logs through one CloudWatch role per account and region (its Settings,
``cloudwatchRoleArn``): it refuses a stage with access logging until that role is set ("CloudWatch
Logs role ARN must be set in account settings to enable logging"), a format without
``$context.requestId`` (or ``extendedRequestId``), and a destination that is not a log group ARN.
AWS::ApiGateway::Account sets the role (the role must exist and trust apigateway.amazonaws.com);
deleting the resource leaves the account setting as it is, as on AWS.
"""

from typing import Any

from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import apigateway_backends

from localcloud import api_access_log

NO_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
BAD_ROLE = "The role ARN does not have required permissions set to API Gateway"


def stage_settings(props: dict[str, Any], account_id: str, region_name: str) -> dict[str, Any]:
    """The stage's method settings and access log settings, as GetStage shows them; refused as
    API Gateway refuses them (BadRequestException)."""
    methods: dict[str, dict[str, Any]] = {}
    for setting in props.get("MethodSettings") or []:
        path = str(setting.get("ResourcePath", "/*"))
        resource = "*" if path == "/*" else path.replace("/", "~1")  # /a/b -> ~1a~1b, as GetStage names it
        key = f"{resource}/{setting.get('HttpMethod', '*')}"
        found: dict[str, Any] = {}
        for name, api_name, kind in (
            ("ThrottlingRateLimit", "throttlingRateLimit", float),
            ("ThrottlingBurstLimit", "throttlingBurstLimit", int),
            ("MetricsEnabled", "metricsEnabled", bool),
            ("LoggingLevel", "loggingLevel", str),
            ("DataTraceEnabled", "dataTraceEnabled", bool),
        ):
            if setting.get(name) is not None:
                value = setting[name]
                found[api_name] = (str(value).lower() == "true") if kind is bool else kind(float(value))
        if found.get("throttlingRateLimit", 0) < 0 or found.get("throttlingBurstLimit", 0) < 0:
            raise BadRequestException("Throttling limits must be zero or more")
        methods[key] = found
    access = props.get("AccessLogSetting")
    if not access:
        return {"method_settings": methods, "access_log_settings": None}
    arn, text = str(access.get("DestinationArn", "")), str(access.get("Format", ""))
    if api_access_log.destination(arn) is None:
        raise BadRequestException(f"Invalid ARN specified in the request. ARN: {arn}")
    if "$context.requestId" not in text and "$context.extendedRequestId" not in text:
        raise BadRequestException(
            "Access Log format must contain either $context.requestId or $context.extendedRequestId"
        )
    if not apigateway_backends[account_id][region_name].get_account().cloudwatch_role_arn:
        raise BadRequestException(NO_ROLE)
    return {"method_settings": methods, "access_log_settings": {"format": text, "destinationArn": arn}}


def apply(stage: Any, settings: dict[str, Any]) -> None:
    """Give a moto Stage the settings ``stage_settings`` returned."""
    stage.method_settings = settings["method_settings"]
    stage.access_log_settings = settings["access_log_settings"]
