"""CloudFormation resource models for moto: the types moto lacks, and fuller versions of the ones it has.

moto's stack engine finds a resource type's model among ``CloudFormationModel.__subclasses__()``
(cached by ``get_model_map``); for one type, the subclass defined last wins, and these are
defined after moto's (this module imports moto's models first). Each class here
subclasses ``CloudFormationModel`` directly, so that defining it is enough to register it once
the caches are cleared (``localcloud.cloudformation.install``). The objects the classes create
are moto's own backend objects wherever moto has them (a ``FakeBucket``, a ``RestAPI``...), so
every service API sees what the stack made.

Every model has ``create_from_cloudformation_json``, ``update_from_cloudformation_json`` (in
place, or a new object with a new physical id: a replacement, whose old object the stack engine
deletes in its cleanup phase, as CloudFormation does) and ``delete_from_cloudformation_json``
(given the physical id and the resolved properties). What each fills in:

- AWS::S3::Bucket: WebsiteConfiguration (with RoutingRules), PublicAccessBlockConfiguration,
  OwnershipControls and VersioningConfiguration, on create and update; a non-empty bucket is
  not deleted (BucketNotEmpty), as on AWS.
- AWS::S3::BucketPolicy, AWS::ApiGateway::Stage, AWS::CloudWatch::Alarm: new.
- AWS::Logs::LogGroup: update (retention); its ``Arn`` attribute ends in ``:*`` as on AWS.
- AWS::IAM::Role: inline policies stored as JSON text, as the API does (moto's model stores
  dicts, which GetRolePolicy cannot return); update of the trust and inline policies.
- AWS::Lambda::Function: every property moto's API knows (Architectures, Layers...), environment
  values as strings, and the code's S3 object checked first (moto accepts a missing key).
- AWS::Lambda::Permission: a statement id (its physical id), so it can be removed.
- AWS::ApiGateway::RestApi, Resource, Method, Deployment: update and delete; the API's
  BinaryMediaTypes, Policy, Tags...; a Deployment's physical id (what ``Ref`` returns).
"""

import base64
import contextlib
import copy
import json
from typing import Any
from xml.sax.saxutils import escape

from moto.apigateway.models import Method, Resource, RestAPI, apigateway_backends
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.iam.models import Role
from moto.logs.models import LogGroup, logs_backends
from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import BucketNotEmpty, MissingBucket
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from localcloud import cfn_api_logging, cloudformation

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _s3(account_id: str, region_name: str) -> Any:
    return s3_backends[account_id][get_partition(region_name)]


def _apigw(account_id: str, region_name: str) -> Any:
    return apigateway_backends[account_id][region_name]


def _lambda(account_id: str, region_name: str) -> Any:
    return get_lambda_backend(account_id, region_name)  # moto's choice: lambda, or lambda-simple


def _props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    return cloudformation_json.get("Properties") or {}


def _tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def _text(value: Any) -> str:
    """A property value as CloudFormation passes it to a string-typed API field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _policy_text(policy: Any) -> Any:
    """A policy document as the APIs store it: JSON text."""
    return policy if policy is None or isinstance(policy, str) else json.dumps(policy)


class _Defaults:
    """Defaults shared by the models below; each lists CloudFormationModel as a direct base, as
    moto's ``__subclasses__()`` lookup requires."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def is_created(self) -> bool:
        return True


# -- S3 ---------------------------------------------------------------------------------------


def website_xml(config: dict[str, Any]) -> bytes:
    """The PutBucketWebsite body for a CloudFormation WebsiteConfiguration (what moto stores)."""

    def fields(values: dict[str, Any], names: tuple[str, ...]) -> str:
        return "".join(
            f"<{n}>{escape(_text(values[n]))}</{n}>" for n in names if values.get(n) not in (None, "")
        )

    parts = []
    if config.get("ErrorDocument"):
        parts.append(f"<ErrorDocument><Key>{escape(config['ErrorDocument'])}</Key></ErrorDocument>")
    if config.get("IndexDocument"):
        parts.append(f"<IndexDocument><Suffix>{escape(config['IndexDocument'])}</Suffix></IndexDocument>")
    if config.get("RedirectAllRequestsTo"):
        redirect = fields(config["RedirectAllRequestsTo"], ("HostName", "Protocol"))
        parts.append(f"<RedirectAllRequestsTo>{redirect}</RedirectAllRequestsTo>")
    if config.get("RoutingRules"):
        rules = []
        for rule in config["RoutingRules"]:
            condition = fields(
                rule.get("RoutingRuleCondition") or {}, ("HttpErrorCodeReturnedEquals", "KeyPrefixEquals")
            )
            redirect = fields(
                rule.get("RedirectRule") or {},
                ("HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith", "ReplaceKeyWith"),
            )
            rules.append(
                "<RoutingRule>"
                + (f"<Condition>{condition}</Condition>" if condition else "")
                + f"<Redirect>{redirect}</Redirect></RoutingRule>"
            )
        parts.append(f"<RoutingRules>{''.join(rules)}</RoutingRules>")
    body = "".join(parts)
    return f'<WebsiteConfiguration xmlns="{S3_XMLNS}">{body}</WebsiteConfiguration>'.encode()


def _apply_bucket_properties(backend: Any, name: str, props: dict[str, Any]) -> None:
    """The bucket properties moto's model ignores; an absent one is removed, as on an update."""
    if "WebsiteConfiguration" in props:
        backend.put_bucket_website(name, website_xml(props["WebsiteConfiguration"]))
    else:
        backend.delete_bucket_website(name)
    if "PublicAccessBlockConfiguration" in props:
        backend.put_public_access_block(name, dict(props["PublicAccessBlockConfiguration"]))
    else:
        backend.delete_public_access_block(name)
    rules = (props.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(name, ownership=rules[0]["ObjectOwnership"])
    else:
        backend.delete_bucket_ownership_controls(name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if status:
        backend.put_bucket_versioning(name, status)


class BucketModel(_Defaults, CloudFormationModel):
    """AWS::S3::Bucket: moto's FakeBucket, with the properties its model ignores applied."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "BucketName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return FakeBucket.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        _apply_bucket_properties(_s3(account_id, region_name), bucket.name, _props(cloudformation_json))
        return bucket

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        # Not moto's update: it deletes the old bucket of a replacement at once (ignoring
        # UpdateReplacePolicy), and reads BucketName even when it is absent.
        props = _props(cloudformation_json)
        if props.get("BucketName", original_resource.name) != original_resource.name:
            return cls.create_from_cloudformation_json(
                props["BucketName"], cloudformation_json, account_id, region_name
            )
        backend = _s3(account_id, region_name)
        name = original_resource.name
        if "BucketEncryption" in props:
            backend.put_bucket_encryption(name, cfn_to_api_encryption(props["BucketEncryption"]))
        else:
            backend.delete_bucket_encryption(name)
        backend.put_bucket_tagging(name, _tags(props.get("Tags")))
        _apply_bucket_properties(backend, name, props)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        # moto's backend quietly keeps a non-empty bucket (its API layer raises); AWS fails.
        if _s3(account_id, region_name).delete_bucket(resource_name) is None:
            raise BucketNotEmpty(resource_name)


class BucketPolicy(_Defaults, CloudFormationModel):
    """AWS::S3::BucketPolicy (moto has no model): the bucket's policy document."""

    def __init__(self, name: str, bucket: str) -> None:
        self.name = name
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @staticmethod
    def _document(props: dict[str, Any]) -> bytes:
        document = props["PolicyDocument"]
        return (document if isinstance(document, str) else json.dumps(document)).encode()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "BucketPolicy":
        props = _props(cloudformation_json)
        _s3(account_id, region_name).put_bucket_policy(props["Bucket"], cls._document(props))
        return cls(resource_name, props["Bucket"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "BucketPolicy",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "BucketPolicy":
        props = _props(cloudformation_json)
        if props["Bucket"] != original_resource.bucket:  # another bucket: a replacement
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        _s3(account_id, region_name).put_bucket_policy(props["Bucket"], cls._document(props))
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        with contextlib.suppress(MissingBucket):  # the bucket went first: its policy went with it
            _s3(account_id, region_name).delete_bucket_policy(_props(cloudformation_json)["Bucket"])


# -- Logs, IAM ----------------------------------------------------------------------------------


class LogGroupModel(_Defaults, CloudFormationModel):
    """AWS::Logs::LogGroup: moto's LogGroup, plus an in-place update of its retention."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "LogGroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::LogGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return LogGroup.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LogGroup:
        return LogGroup.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: LogGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LogGroup:
        props = _props(cloudformation_json)
        if props.get("LogGroupName", original_resource.name) != original_resource.name:
            return cls.create_from_cloudformation_json(
                props["LogGroupName"], cloudformation_json, account_id, region_name
            )
        backend = logs_backends[account_id][region_name]
        if props.get("RetentionInDays"):
            backend.put_retention_policy(original_resource.name, props["RetentionInDays"])
        else:
            backend.delete_retention_policy(original_resource.name)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        logs_backends[account_id][region_name].delete_log_group(resource_name)


def log_group_attribute(original: Any) -> Any:
    """Wrap LogGroup.get_cfn_attribute: CloudFormation's ``Arn`` of a log group ends in ``:*``."""

    def get_cfn_attribute(self: LogGroup, attribute_name: str) -> Any:
        value = original(self, attribute_name)
        return f"{value}:*" if attribute_name == "Arn" and not value.endswith(":*") else value

    return get_cfn_attribute


class RoleModel(_Defaults, CloudFormationModel):
    """AWS::IAM::Role: moto's Role; its update also syncs the trust and inline policies."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "RoleName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::Role"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return Role.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Role:
        role = Role.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        # moto stores the inline policies as dicts (GetRolePolicy then returns their repr): the
        # API stores JSON text.
        for name, document in list(role.policies.items()):
            role.put_policy(name, _policy_text(document))
        return role

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Role,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Role:
        # moto's update sets only the description (and the session duration from the wrong key).
        props = _props(cloudformation_json)
        role = original_resource
        if props.get("RoleName", role.name) != role.name or props.get("Path", "/") != role.path:
            return cls.create_from_cloudformation_json(
                props.get("RoleName", new_resource_name), cloudformation_json, account_id, region_name
            )
        trust = props["AssumeRolePolicyDocument"]
        role.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
        role.description = props.get("Description", "")
        role.max_session_duration = props.get("MaxSessionDuration", 3600)
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for name in set(role.policies) - set(wanted):
            role.delete_policy(name)
        for name, document in wanted.items():
            role.put_policy(name, _policy_text(document))
        return role

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        Role.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)


# -- Lambda -------------------------------------------------------------------------------------

_GET_OBJECT_FAILED = "Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"
_NO_SUCH_KEY = _GET_OBJECT_FAILED.format(code="NoSuchKey", message="The specified key does not exist.")
_NO_SUCH_BUCKET = _GET_OBJECT_FAILED.format(
    code="NoSuchBucket", message="The specified bucket does not exist"
)


def check_code(code: dict[str, Any], account_id: str, region_name: str) -> None:
    """Raise as Lambda does when the code's S3 object is missing (moto's model accepts it)."""
    if "S3Bucket" not in code:
        return
    try:
        found = _s3(account_id, region_name).get_object(
            code["S3Bucket"], code.get("S3Key", ""), version_id=code.get("S3ObjectVersion")
        )
    except MissingBucket:
        raise InvalidParameterValueException(_NO_SUCH_BUCKET) from None
    if found is None:
        raise InvalidParameterValueException(_NO_SUCH_KEY)


def _function_spec(resource_name: str, props: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(props)
    spec["FunctionName"] = resource_name
    spec["Tags"] = _tags(props.get("Tags"))
    variables = (props.get("Environment") or {}).get("Variables") or {}
    # An AWS URL in the environment (the CDN's, as PUBLIC_URL) is its local URL, as WebsiteURL is.
    local = cloudformation.rewrite
    spec["Environment"] = {"Variables": {k: local(_text(v)) for k, v in variables.items()}}
    if "ZipFile" in spec["Code"]:  # inline code is source text, as moto's own model handles it
        zipped = LambdaFunction._create_zipfile_from_plaintext_code(spec["Code"]["ZipFile"])
        spec["Code"]["ZipFile"] = base64.b64encode(zipped)
    return spec


class FunctionModel(_Defaults, CloudFormationModel):
    """AWS::Lambda::Function: created through moto's CreateFunction with every property it knows."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "FunctionName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Function"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return LambdaFunction.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LambdaFunction:
        # Not moto's model: it passes only seven optional properties (no Architectures, Layers,
        # TracingConfig...) and keeps Number parameters as numbers in the environment.
        props = _props(cloudformation_json)
        check_code(props["Code"], account_id, region_name)
        return _lambda(account_id, region_name).create_function(_function_spec(resource_name, props))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: LambdaFunction,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LambdaFunction:
        props = _props(cloudformation_json)
        fn = original_resource
        if props.get("FunctionName", fn.function_name) != fn.function_name:
            return cls.create_from_cloudformation_json(
                props["FunctionName"], cloudformation_json, account_id, region_name
            )
        check_code(props["Code"], account_id, region_name)
        spec = _function_spec(fn.function_name, props)
        fn.update_configuration(spec)
        fn.update_function_code(spec["Code"])
        fn.architectures = spec.get("Architectures", ["x86_64"])
        fn.reserved_concurrency = spec.get("ReservedConcurrentExecutions")
        return fn

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _lambda(account_id, region_name).delete_function(resource_name)


class LambdaPermission(_Defaults, CloudFormationModel):
    """AWS::Lambda::Permission: one statement of the function's policy, its Sid the physical id.

    moto's model copies the template's properties into the statement (FunctionName included)
    under a random Sid it does not keep, so the statement can never be removed.
    """

    _STATEMENT_KEYS = (
        "Action",
        "Principal",
        "SourceArn",
        "SourceAccount",
        "EventSourceToken",
        "PrincipalOrgID",
        "FunctionUrlAuthType",
    )

    def __init__(self, sid: str, function_name: str) -> None:
        self.sid = sid
        self.function_name = function_name

    @property
    def physical_resource_id(self) -> str:
        return self.sid

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Permission"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "LambdaPermission":
        props = _props(cloudformation_json)
        statement = {"StatementId": resource_name, **{k: props[k] for k in cls._STATEMENT_KEYS if k in props}}
        _lambda(account_id, region_name).add_permission(props["FunctionName"], None, json.dumps(statement))
        return cls(resource_name, props["FunctionName"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "LambdaPermission",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "LambdaPermission":
        # Every property of a permission requires a replacement.
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _lambda(account_id, region_name).remove_permission(
            _props(cloudformation_json)["FunctionName"], resource_name
        )


# -- API Gateway --------------------------------------------------------------------------------


def _endpoint_configuration(props: dict[str, Any]) -> dict[str, Any] | None:
    config = props.get("EndpointConfiguration")
    if not config:
        return None
    converted: dict[str, Any] = {"types": list(config.get("Types") or ["EDGE"])}
    if config.get("VpcEndpointIds"):
        converted["vpcEndpointIds"] = list(config["VpcEndpointIds"])
    return converted


class RestApiModel(_Defaults, CloudFormationModel):
    """AWS::ApiGateway::RestApi: moto's RestAPI with all its settings; updated in place, deleted."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "RestApi"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::RestApi"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return RestAPI.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> RestAPI:
        props = _props(cloudformation_json)
        api = _apigw(account_id, region_name).create_rest_api(
            name=props.get("Name", resource_name),
            description=props.get("Description", ""),
            api_key_source=props.get("ApiKeySourceType"),
            endpoint_configuration=_endpoint_configuration(props),
            tags=_tags(props.get("Tags")),
            policy=_policy_text(props.get("Policy")),
            minimum_compression_size=props.get("MinimumCompressionSize"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
        )
        api.binaryMediaTypes = list(props.get("BinaryMediaTypes") or [])
        return api

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: RestAPI,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> RestAPI:
        props = _props(cloudformation_json)
        api = original_resource
        api.name = props.get("Name", api.name)
        api.description = props.get("Description", "")
        api.binaryMediaTypes = list(props.get("BinaryMediaTypes") or [])
        api.endpoint_configuration = _endpoint_configuration(props) or {"types": ["EDGE"]}
        api.policy = _policy_text(props.get("Policy"))
        api.api_key_source = props.get("ApiKeySourceType") or "HEADER"
        api.minimum_compression_size = props.get("MinimumCompressionSize")
        api.disableExecuteApiEndpoint = bool(props.get("DisableExecuteApiEndpoint"))
        api.tags = _tags(props.get("Tags"))
        return api

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _apigw(account_id, region_name).delete_rest_api(resource_name)


class ApiResourceModel(_Defaults, CloudFormationModel):
    """AWS::ApiGateway::Resource: moto's Resource; a changed path or parent is a replacement."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Resource"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Resource"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Resource:
        return Resource.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Resource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Resource:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        api = _apigw(account_id, region_name).get_rest_api(_props(cloudformation_json)["RestApiId"])
        api.resources.pop(resource_name, None)


class MethodModel(_Defaults, CloudFormationModel):
    """AWS::ApiGateway::Method: moto's Method and integration, updated by putting them again."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Method"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Method"

    @staticmethod
    def _where(props: dict[str, Any]) -> tuple[str, str, str]:
        return props["RestApiId"], props["ResourceId"], props["HttpMethod"]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Method:
        method = Method.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        method.physical_resource_id = resource_name  # type: ignore[attr-defined]
        method.cfn_where = cls._where(_props(cloudformation_json))  # type: ignore[attr-defined]
        return method

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Method,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Method:
        where = cls._where(_props(cloudformation_json))
        if where != getattr(original_resource, "cfn_where", where):  # another resource: a replacement
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        physical_id = original_resource.physical_resource_id  # type: ignore[attr-defined]
        _apigw(account_id, region_name).delete_method(*where)
        return cls.create_from_cloudformation_json(physical_id, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        api_id, resource_id, http_method = cls._where(_props(cloudformation_json))
        api = _apigw(account_id, region_name).get_rest_api(api_id)
        if resource_id in api.resources:
            api.resources[resource_id].delete_method(http_method)


class DeploymentModel(_Defaults, CloudFormationModel):
    """AWS::ApiGateway::Deployment: moto's Deployment, whose id is its physical id (``Ref``)."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Deployment"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Deployment"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.apigateway.models import Deployment

        deployment = Deployment.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        deployment.physical_resource_id = deployment.id
        deployment.cfn_api_id = _props(cloudformation_json)["RestApiId"]
        return deployment

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        props = _props(cloudformation_json)
        same_api = props["RestApiId"] == getattr(original_resource, "cfn_api_id", None)
        if same_api and props.get("StageName") == (original_resource.stage_name or None):
            original_resource.description = props.get("Description", "")  # no interruption
            return original_resource
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _apigw(account_id, region_name).delete_deployment(
            _props(cloudformation_json)["RestApiId"], resource_name
        )


class ApiStage(_Defaults, CloudFormationModel):
    """AWS::ApiGateway::Stage (moto has no model): a stage of the REST API; ``Ref`` is its name."""

    def __init__(self, api_id: str, stage: Any) -> None:
        self.api_id = api_id
        self.stage = stage

    @property
    def physical_resource_id(self) -> str:
        return self.stage.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "ApiStage":
        props = _props(cloudformation_json)
        settings = cfn_api_logging.stage_settings(props, account_id, region_name)  # refused first
        stage = _apigw(account_id, region_name).create_stage(
            props["RestApiId"],
            resource_name,
            props.get("DeploymentId"),
            variables=dict(props.get("Variables") or {}),
            description=props.get("Description", ""),
            cacheClusterEnabled=props.get("CacheClusterEnabled", False),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=_tags(props.get("Tags")) or None,
            tracing_enabled=props.get("TracingEnabled"),
        )
        cfn_api_logging.apply(stage, settings)
        return cls(props["RestApiId"], stage)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "ApiStage",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "ApiStage":
        props = _props(cloudformation_json)
        name = props.get("StageName", original_resource.stage.name)
        if props["RestApiId"] != original_resource.api_id or name != original_resource.stage.name:
            return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        stage = original_resource.stage
        cfn_api_logging.apply(stage, cfn_api_logging.stage_settings(props, account_id, region_name))
        stage.deployment_id = props.get("DeploymentId")
        stage.description = props.get("Description", "")
        stage.variables = dict(props.get("Variables") or {})
        stage.tracing_enabled = props.get("TracingEnabled")
        stage.tags = _tags(props.get("Tags")) or None
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _apigw(account_id, region_name).delete_stage(_props(cloudformation_json)["RestApiId"], resource_name)


# -- CloudWatch ---------------------------------------------------------------------------------


class MetricAlarm(_Defaults, CloudFormationModel):
    """AWS::CloudWatch::Alarm (moto has no model): PutMetricAlarm with the template's properties.

    ``Ref`` is the alarm's name: AlarmName, or ``{stack}-{LogicalId}-{RANDOM}`` as AWS generates.
    """

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def _put(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "MetricAlarm":
        def number(key: str, kind: type) -> Any:
            return kind(props[key]) if props.get(key) is not None else None

        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props.get("ComparisonOperator"),
            evaluation_periods=number("EvaluationPeriods", int),
            period=number("Period", int),
            threshold=number("Threshold", float),
            statistic=props.get("Statistic"),
            description=props.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": _text(d["Value"])} for d in props.get("Dimensions", [])],
            alarm_actions=list(props.get("AlarmActions") or []),
            datapoints_to_alarm=number("DatapointsToAlarm", int),
            extended_statistic=props.get("ExtendedStatistic"),
            ok_actions=list(props.get("OKActions") or []),
            insufficient_data_actions=list(props.get("InsufficientDataActions") or []),
            unit=props.get("Unit"),
            actions_enabled=props.get("ActionsEnabled", True) not in (False, "false"),
            treat_missing_data=props.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=props.get("ThresholdMetricId"),
        )
        return cls(alarm.name, alarm.alarm_arn)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "MetricAlarm":
        return cls._put(resource_name, _props(cloudformation_json), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "MetricAlarm",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "MetricAlarm":
        props = _props(cloudformation_json)
        # The same name (a generated one is kept) is an update in place; a new AlarmName replaces.
        return cls._put(props.get("AlarmName", original_resource.name), props, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


#: The models this module registers, one per type (checked by install()).
MODELS: tuple[type[CloudFormationModel], ...] = (
    BucketModel,
    BucketPolicy,
    LogGroupModel,
    RoleModel,
    FunctionModel,
    LambdaPermission,
    RestApiModel,
    ApiResourceModel,
    MethodModel,
    DeploymentModel,
    ApiStage,
    MetricAlarm,
)
