"""CloudWatch Logs provider: AWS::Logs::LogGroup, moto's LogGroup plus an in-place update of its retention."""

from typing import Any

from moto.logs.models import LogGroup, logs_backends

from localcloud.cfn_resources.adapter import Context, Provider, create_with_moto


class LogGroupProvider(Provider):
    """AWS::Logs::LogGroup: moto's LogGroup, plus an in-place update of its retention."""

    TYPE = "AWS::Logs::LogGroup"
    NAME_PROPERTY = "LogGroupName"
    ATTRIBUTES = LogGroup

    def create(self, props: dict[str, Any], ctx: Context) -> LogGroup:
        return create_with_moto(LogGroup, props, ctx)

    def update(self, props: dict[str, Any], ctx: Context) -> LogGroup:
        name = ctx.current.name
        if props.get("LogGroupName", name) != name:
            return self.create(props, ctx.named(props["LogGroupName"]))
        backend = logs_backends[ctx.account_id][ctx.region_name]
        if props.get("RetentionInDays"):
            backend.put_retention_policy(name, props["RetentionInDays"])
        else:
            backend.delete_retention_policy(name)
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        logs_backends[ctx.account_id][ctx.region_name].delete_log_group(ctx.name)


def log_group_attribute(original: Any) -> Any:
    """Wrap LogGroup.get_cfn_attribute: CloudFormation's ``Arn`` of a log group ends in ``:*``."""

    def get_cfn_attribute(self: LogGroup, attribute_name: str) -> Any:
        value = original(self, attribute_name)
        return f"{value}:*" if attribute_name == "Arn" and not value.endswith(":*") else value

    return get_cfn_attribute


PROVIDERS = (LogGroupProvider,)
