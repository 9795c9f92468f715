"""API Gateway providers: RestApi, Resource, Method, Deployment (moto's, with update and delete) and Stage.

- AWS::ApiGateway::RestApi: the API's BinaryMediaTypes, Policy, Tags...; updated in place, deleted.
- AWS::ApiGateway::Resource, Method, Deployment: update and delete; a Deployment's physical id
  (what ``Ref`` returns).
- AWS::ApiGateway::Stage (moto has no model): a stage of the REST API; ``Ref`` is its name; its
  MethodSettings and AccessLogSetting (localcloud.cfn_api_logging), refused as API Gateway does.
- AWS::ApiGateway::Account (moto has no model): the account's CloudWatch role for API Gateway.
"""

import dataclasses
import json
import uuid
from typing import Any, ClassVar

from moto.apigateway.exceptions import BadRequestException
from moto.apigateway.models import Deployment, Method, Resource, RestAPI
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from localcloud import cfn_api_logging
from localcloud.cfn_resources import shared
from localcloud.cfn_resources.adapter import Context, Made, Provider, create_with_moto


def _endpoint_configuration(props: dict[str, Any]) -> dict[str, Any] | None:
    config = props.get("EndpointConfiguration")
    if not config:
        return None
    converted: dict[str, Any] = {"types": list(config.get("Types") or ["EDGE"])}
    if config.get("VpcEndpointIds"):
        converted["vpcEndpointIds"] = list(config["VpcEndpointIds"])
    return converted


class RestApiProvider(Provider):
    """AWS::ApiGateway::RestApi: moto's RestAPI with all its settings; updated in place, deleted."""

    TYPE = "AWS::ApiGateway::RestApi"
    NAME_PROPERTY = "RestApi"
    ATTRIBUTES = RestAPI

    def create(self, props: dict[str, Any], ctx: Context) -> RestAPI:
        api = shared.apigateway(ctx).create_rest_api(
            name=props.get("Name", ctx.name),
            description=props.get("Description", ""),
            api_key_source=props.get("ApiKeySourceType"),
            endpoint_configuration=_endpoint_configuration(props),
            tags=shared.tags(props.get("Tags")),
            policy=shared.policy_text(props.get("Policy")),
            minimum_compression_size=props.get("MinimumCompressionSize"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
        )
        api.binaryMediaTypes = list(props.get("BinaryMediaTypes") or [])
        return api

    def update(self, props: dict[str, Any], ctx: Context) -> RestAPI:
        api = ctx.current
        api.name = props.get("Name", api.name)
        api.description = props.get("Description", "")
        api.binaryMediaTypes = list(props.get("BinaryMediaTypes") or [])
        api.endpoint_configuration = _endpoint_configuration(props) or {"types": ["EDGE"]}
        api.policy = shared.policy_text(props.get("Policy"))
        api.api_key_source = props.get("ApiKeySourceType") or "HEADER"
        api.minimum_compression_size = props.get("MinimumCompressionSize")
        api.disableExecuteApiEndpoint = bool(props.get("DisableExecuteApiEndpoint"))
        api.tags = shared.tags(props.get("Tags"))
        return api

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        shared.apigateway(ctx).delete_rest_api(ctx.name)


class ApiResourceProvider(Provider):
    """AWS::ApiGateway::Resource: moto's Resource; a changed path or parent is a replacement."""

    TYPE = "AWS::ApiGateway::Resource"
    NAME_PROPERTY = "Resource"

    def create(self, props: dict[str, Any], ctx: Context) -> Resource:
        return create_with_moto(Resource, props, ctx)

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        api = shared.apigateway(ctx).get_rest_api(props["RestApiId"])
        api.resources.pop(ctx.name, None)


def _where(props: dict[str, Any]) -> tuple[str, str, str]:
    return props["RestApiId"], props["ResourceId"], props["HttpMethod"]


class MethodProvider(Provider):
    """AWS::ApiGateway::Method: moto's Method and integration, updated by putting them again."""

    TYPE = "AWS::ApiGateway::Method"
    NAME_PROPERTY = "Method"

    def create(self, props: dict[str, Any], ctx: Context) -> Method:
        method = create_with_moto(Method, props, ctx)
        method.physical_resource_id = ctx.name  # type: ignore[attr-defined]
        method.cfn_where = _where(props)  # type: ignore[attr-defined]
        return method

    def update(self, props: dict[str, Any], ctx: Context) -> Method:
        where = _where(props)
        if where != getattr(ctx.current, "cfn_where", where):  # another resource: a replacement
            return self.create(props, ctx)
        physical_id = ctx.current.physical_resource_id
        shared.apigateway(ctx).delete_method(*where)
        return self.create(props, ctx.named(physical_id))

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        api_id, resource_id, http_method = _where(props)
        api = shared.apigateway(ctx).get_rest_api(api_id)
        if resource_id in api.resources:
            api.resources[resource_id].delete_method(http_method)


class DeploymentProvider(Provider):
    """AWS::ApiGateway::Deployment: moto's Deployment, whose id is its physical id (``Ref``)."""

    TYPE = "AWS::ApiGateway::Deployment"
    NAME_PROPERTY = "Deployment"

    def create(self, props: dict[str, Any], ctx: Context) -> Deployment:
        deployment = create_with_moto(Deployment, props, ctx)
        deployment.physical_resource_id = deployment.id  # type: ignore[misc]
        deployment.cfn_api_id = props["RestApiId"]  # type: ignore[attr-defined]
        return deployment

    def update(self, props: dict[str, Any], ctx: Context) -> Deployment:
        current = ctx.current
        same_api = props["RestApiId"] == getattr(current, "cfn_api_id", None)
        if same_api and props.get("StageName") == (current.stage_name or None):
            current.description = props.get("Description", "")  # no interruption
            return current
        return self.create(props, ctx)

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        shared.apigateway(ctx).delete_deployment(props["RestApiId"], ctx.name)


@dataclasses.dataclass(eq=False)
class ApiStage(Made):
    """A stage the stack made: its REST API's id and moto's Stage (whose name is the physical id)."""

    PHYSICAL_ID = "stage.name"
    api_id: str
    stage: Any


class StageProvider(Provider):
    """AWS::ApiGateway::Stage (moto has no model): a stage of the REST API; ``Ref`` is its name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    def create(self, props: dict[str, Any], ctx: Context) -> ApiStage:
        settings = cfn_api_logging.stage_settings(props, ctx.account_id, ctx.region_name)  # refused first
        stage = shared.apigateway(ctx).create_stage(
            props["RestApiId"],
            ctx.name,
            props.get("DeploymentId"),
            variables=dict(props.get("Variables") or {}),
            description=props.get("Description", ""),
            cacheClusterEnabled=props.get("CacheClusterEnabled", False),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=shared.tags(props.get("Tags")) or None,
            tracing_enabled=props.get("TracingEnabled"),
        )
        cfn_api_logging.apply(stage, settings)
        return ApiStage(props["RestApiId"], stage)

    def update(self, props: dict[str, Any], ctx: Context) -> ApiStage:
        current = ctx.current
        name = props.get("StageName", current.stage.name)
        if props["RestApiId"] != current.api_id or name != current.stage.name:
            return self.create(props, ctx.named(name))
        stage = current.stage
        cfn_api_logging.apply(stage, cfn_api_logging.stage_settings(props, ctx.account_id, ctx.region_name))
        stage.deployment_id = props.get("DeploymentId")
        stage.description = props.get("Description", "")
        stage.variables = dict(props.get("Variables") or {})
        stage.tracing_enabled = props.get("TracingEnabled")
        stage.tags = shared.tags(props.get("Tags")) or None
        return current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        shared.apigateway(ctx).delete_stage(props["RestApiId"], ctx.name)


@dataclasses.dataclass(eq=False)
class Account(Made):
    """The account setting the stack made (API Gateway has one per account and region)."""

    PHYSICAL_ID = "id"
    CFN_ATTRIBUTES: ClassVar[dict[str, str]] = {"Id": "id"}
    id: str


class AccountProvider(Provider):
    """AWS::ApiGateway::Account: sets the account's CloudWatch role for API Gateway in the region."""

    TYPE = "AWS::ApiGateway::Account"
    ATTRIBUTES = Account

    @staticmethod
    def _set(props: dict[str, Any], ctx: Context) -> None:
        arn = str(props.get("CloudWatchRoleArn") or "")
        if arn:
            try:
                role = iam_backends[ctx.account_id][get_partition(ctx.region_name)].get_role_by_arn(arn)
            except Exception:
                raise BadRequestException(cfn_api_logging.BAD_ROLE) from None
            trust = role.assume_role_policy_document
            if "apigateway.amazonaws.com" not in (trust if isinstance(trust, str) else json.dumps(trust)):
                raise BadRequestException(cfn_api_logging.BAD_ROLE)
        operation = {"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}
        shared.apigateway(ctx).update_account([operation])

    def create(self, props: dict[str, Any], ctx: Context) -> Account:
        self._set(props, ctx)
        return Account(f"{ctx.name[:5]}-accou-{uuid.uuid4().hex[:12]}")

    def update(self, props: dict[str, Any], ctx: Context) -> Account:
        self._set(props, ctx)
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        """API Gateway has no call to unset it: the account keeps the role, as on AWS."""


PROVIDERS = (
    AccountProvider,
    RestApiProvider,
    ApiResourceProvider,
    MethodProvider,
    DeploymentProvider,
    StageProvider,
)
