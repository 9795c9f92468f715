"""The stack's CloudWatch alarms and their states (OK, ALARM, INSUFFICIENT_DATA), by the stack's resources."""

from dataclasses import dataclass

from operations.aws import Clients, translated
from operations.status import Resource

ALARM_TYPE = "AWS::CloudWatch::Alarm"


@dataclass(frozen=True)
class Alarm:
    logical_id: str
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA; "" when CloudWatch does not know it (deleted by hand)
    reason: str = ""
    description: str = ""
    updated: str = ""


@translated
def alarm_states(clients: Clients, resources: list[Resource]) -> list[Alarm]:
    """Each alarm of the stack with its current state, in the stack's order (one DescribeAlarms call)."""
    wanted = [r for r in resources if r.resource_type == ALARM_TYPE and r.physical_id]
    if not wanted:
        return []
    found: dict[str, dict] = {}
    cloudwatch = clients.client("cloudwatch")
    names = [r.physical_id for r in wanted]
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]
        ):
            found.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
    alarms = []
    for resource in wanted:
        alarm = found.get(resource.physical_id, {})
        updated = alarm.get("StateUpdatedTimestamp")
        alarms.append(
            Alarm(
                resource.logical_id,
                resource.physical_id,
                alarm.get("StateValue", ""),
                alarm.get("StateReason", ""),
                alarm.get("AlarmDescription", ""),
                updated.isoformat() if updated else "",
            )
        )
    return alarms
