"""What several providers share: moto's backends by account and region, and property conversions."""

import json
from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from localcloud.cfn_resources.adapter import Context


def s3(ctx: Context) -> Any:
    return s3_backends[ctx.account_id][get_partition(ctx.region_name)]


def apigateway(ctx: Context) -> Any:
    return apigateway_backends[ctx.account_id][ctx.region_name]


def lambda_(ctx: Context) -> Any:
    return get_lambda_backend(ctx.account_id, ctx.region_name)  # moto's choice: lambda, or lambda-simple


def tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def text(value: Any) -> str:
    """A property value as CloudFormation passes it to a string-typed API field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def policy_text(policy: Any) -> Any:
    """A policy document as the APIs store it: JSON text."""
    return policy if policy is None or isinstance(policy, str) else json.dumps(policy)
