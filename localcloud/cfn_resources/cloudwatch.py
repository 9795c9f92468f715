"""CloudWatch provider: AWS::CloudWatch::Alarm (moto has no model), PutMetricAlarm with its properties."""

import dataclasses
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from localcloud.cfn_resources import shared
from localcloud.cfn_resources.adapter import Context, Made, Provider


@dataclasses.dataclass(eq=False)
class MetricAlarm(Made):
    """An alarm the stack made: its name (``Ref``) and ARN (``GetAtt Arn``)."""

    PHYSICAL_ID = "name"
    CFN_ATTRIBUTES = {"Arn": "arn"}
    name: str
    arn: str


def _put(name: str, props: dict[str, Any], ctx: Context) -> MetricAlarm:
    def number(key: str, kind: type) -> Any:
        return kind(props[key]) if props.get(key) is not None else None

    alarm = cloudwatch_backends[ctx.account_id][ctx.region_name].put_metric_alarm(
        name=name,
        namespace=props.get("Namespace"),
        metric_name=props.get("MetricName"),
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=number("EvaluationPeriods", int),
        period=number("Period", int),
        threshold=number("Threshold", float),
        statistic=props.get("Statistic"),
        description=props.get("AlarmDescription"),
        dimensions=[
            {"Name": d["Name"], "Value": shared.text(d["Value"])} for d in props.get("Dimensions", [])
        ],
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
    return MetricAlarm(alarm.name, alarm.alarm_arn)


class AlarmProvider(Provider):
    """AWS::CloudWatch::Alarm: ``Ref`` is the alarm's name, AlarmName or ``{stack}-{LogicalId}-{RANDOM}``
    as AWS generates."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = MetricAlarm

    def create(self, props: dict[str, Any], ctx: Context) -> MetricAlarm:
        return _put(ctx.name, props, ctx)

    def update(self, props: dict[str, Any], ctx: Context) -> MetricAlarm:
        # The same name (a generated one is kept) is an update in place; a new AlarmName replaces.
        return _put(props.get("AlarmName", ctx.current.name), props, ctx)

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        cloudwatch_backends[ctx.account_id][ctx.region_name].delete_alarms([ctx.name])


PROVIDERS = (AlarmProvider,)
