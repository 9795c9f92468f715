"""Lambda providers: AWS::Lambda::Function (every property moto's API knows) and AWS::Lambda::Permission.

- AWS::Lambda::Function: created through moto's CreateFunction with every property it knows
  (Architectures, Layers...), environment values as strings, and the code's S3 object checked
  first (moto accepts a missing key).
- AWS::Lambda::Permission: a statement id (its physical id), so it can be removed.
"""

import base64
import copy
import dataclasses
import json
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaFunction
from moto.s3.exceptions import MissingBucket

from localcloud import cloudformation
from localcloud.cfn_resources import shared
from localcloud.cfn_resources.adapter import Context, Made, Provider

_GET_OBJECT_FAILED = "Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"
_NO_SUCH_KEY = _GET_OBJECT_FAILED.format(code="NoSuchKey", message="The specified key does not exist.")
_NO_SUCH_BUCKET = _GET_OBJECT_FAILED.format(
    code="NoSuchBucket", message="The specified bucket does not exist"
)


def check_code(code: dict[str, Any], ctx: Context) -> None:
    """Raise as Lambda does when the code's S3 object is missing (moto's model accepts it)."""
    if "S3Bucket" not in code:
        return
    try:
        found = shared.s3(ctx).get_object(
            code["S3Bucket"], code.get("S3Key", ""), version_id=code.get("S3ObjectVersion")
        )
    except MissingBucket:
        raise InvalidParameterValueException(_NO_SUCH_BUCKET) from None
    if found is None:
        raise InvalidParameterValueException(_NO_SUCH_KEY)


def _function_spec(name: str, props: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(props)
    spec["FunctionName"] = name
    spec["Tags"] = shared.tags(props.get("Tags"))
    variables = (props.get("Environment") or {}).get("Variables") or {}
    # An AWS URL in the environment (the CDN's, as PUBLIC_URL) is its local URL, as WebsiteURL is.
    local = cloudformation.rewrite
    spec["Environment"] = {"Variables": {k: local(shared.text(v)) for k, v in variables.items()}}
    if "ZipFile" in spec["Code"]:  # inline code is source text, as moto's own model handles it
        zipped = LambdaFunction._create_zipfile_from_plaintext_code(spec["Code"]["ZipFile"])
        spec["Code"]["ZipFile"] = base64.b64encode(zipped)
    return spec


class FunctionProvider(Provider):
    """AWS::Lambda::Function: created through moto's CreateFunction with every property it knows."""

    TYPE = "AWS::Lambda::Function"
    NAME_PROPERTY = "FunctionName"
    ATTRIBUTES = LambdaFunction

    def create(self, props: dict[str, Any], ctx: Context) -> LambdaFunction:
        # Not moto's model: it passes only seven optional properties (no Architectures, Layers,
        # TracingConfig...) and keeps Number parameters as numbers in the environment.
        check_code(props["Code"], ctx)
        return shared.lambda_(ctx).create_function(_function_spec(ctx.name, props))

    def update(self, props: dict[str, Any], ctx: Context) -> LambdaFunction:
        fn = ctx.current
        if props.get("FunctionName", fn.function_name) != fn.function_name:
            return self.create(props, ctx.named(props["FunctionName"]))
        check_code(props["Code"], ctx)
        spec = _function_spec(fn.function_name, props)
        fn.update_configuration(spec)
        fn.update_function_code(spec["Code"])
        fn.architectures = spec.get("Architectures", ["x86_64"])
        fn.reserved_concurrency = spec.get("ReservedConcurrentExecutions")
        return fn

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        shared.lambda_(ctx).delete_function(ctx.name)


@dataclasses.dataclass(eq=False)
class LambdaPermission(Made):
    """A permission the stack made: its statement id (the physical id) and function."""

    PHYSICAL_ID = "sid"
    sid: str
    function_name: str


class PermissionProvider(Provider):
    """AWS::Lambda::Permission: one statement of the function's policy, its Sid the physical id.

    moto's model copies the template's properties into the statement (FunctionName included)
    under a random Sid it does not keep, so the statement can never be removed. Every property of
    a permission requires a replacement (the default update).
    """

    TYPE = "AWS::Lambda::Permission"
    _STATEMENT_KEYS = (
        "Action",
        "Principal",
        "SourceArn",
        "SourceAccount",
        "EventSourceToken",
        "PrincipalOrgID",
        "FunctionUrlAuthType",
    )

    def create(self, props: dict[str, Any], ctx: Context) -> LambdaPermission:
        statement = {"StatementId": ctx.name, **{k: props[k] for k in self._STATEMENT_KEYS if k in props}}
        shared.lambda_(ctx).add_permission(props["FunctionName"], None, json.dumps(statement))
        return LambdaPermission(ctx.name, props["FunctionName"])

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        shared.lambda_(ctx).remove_permission(props["FunctionName"], ctx.name)


PROVIDERS = (FunctionProvider, PermissionProvider)
