"""IAM provider: AWS::IAM::Role, moto's Role with inline policies stored as JSON text and a full update.

moto's model stores the inline policies as dicts (GetRolePolicy then returns their repr): the API
stores JSON text. Its update sets only the description (and the session duration from the wrong
key); this one also syncs the trust and inline policies.
"""

import json
from typing import Any

from moto.iam.models import Role

from localcloud.cfn_resources import shared
from localcloud.cfn_resources.adapter import Context, Provider, create_with_moto


class RoleProvider(Provider):
    """AWS::IAM::Role: moto's Role; its update also syncs the trust and inline policies."""

    TYPE = "AWS::IAM::Role"
    NAME_PROPERTY = "RoleName"
    ATTRIBUTES = Role

    def create(self, props: dict[str, Any], ctx: Context) -> Role:
        role = create_with_moto(Role, props, ctx)
        for name, document in list(role.policies.items()):
            role.put_policy(name, shared.policy_text(document))
        return role

    def update(self, props: dict[str, Any], ctx: Context) -> Role:
        role = ctx.current
        if props.get("RoleName", role.name) != role.name or props.get("Path", "/") != role.path:
            return self.create(props, ctx.named(props.get("RoleName", ctx.name)))
        trust = props["AssumeRolePolicyDocument"]
        role.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
        role.description = props.get("Description", "")
        role.max_session_duration = props.get("MaxSessionDuration", 3600)
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for name in set(role.policies) - set(wanted):
            role.delete_policy(name)
        for name, document in wanted.items():
            role.put_policy(name, shared.policy_text(document))
        return role

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        Role.delete_from_cloudformation_json(ctx.name, {"Properties": props}, ctx.account_id, ctx.region_name)


PROVIDERS = (RoleProvider,)
