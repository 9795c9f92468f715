"""operations.alarms: the stack's alarms with their states, in the stack's order, from one DescribeAlarms."""

from operations import alarms
from operations.aws import Clients
from operations.status import Resource


def put_alarm(clients: Clients, name: str) -> None:
    clients.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"{name} fired",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def test_alarm_states_follow_the_stacks_resources(clients: Clients) -> None:
    put_alarm(clients, "resizer-ErrorsAlarm-ABC")
    put_alarm(clients, "resizer-ThrottlesAlarm-DEF")
    put_alarm(clients, "someone-elses-alarm")
    clients.client("cloudwatch").set_alarm_state(
        AlarmName="resizer-ThrottlesAlarm-DEF", StateValue="ALARM", StateReason="Threshold Crossed"
    )
    resources = [
        Resource("Function", "AWS::Lambda::Function", "CREATE_COMPLETE", "resizer-resize"),
        Resource("ThrottlesAlarm", alarms.ALARM_TYPE, "CREATE_COMPLETE", "resizer-ThrottlesAlarm-DEF"),
        Resource("ErrorsAlarm", alarms.ALARM_TYPE, "CREATE_COMPLETE", "resizer-ErrorsAlarm-ABC"),
        Resource("GoneAlarm", alarms.ALARM_TYPE, "CREATE_COMPLETE", "resizer-GoneAlarm-XYZ"),
        Resource("Pending", alarms.ALARM_TYPE, "CREATE_IN_PROGRESS", ""),
    ]

    found = alarms.alarm_states(clients, resources)

    assert [a.logical_id for a in found] == ["ThrottlesAlarm", "ErrorsAlarm", "GoneAlarm"]
    assert found[0].state == "ALARM"
    assert found[1].state in ("OK", "INSUFFICIENT_DATA")  # CloudWatch starts new alarms at the latter
    assert found[2].state == "", "deleted behind the stack's back: unknown, not an error"
    assert found[0].reason == "Threshold Crossed" and found[1].description == "resizer-ErrorsAlarm-ABC fired"


def test_a_stack_without_alarms_makes_no_call(clients: Clients, monkeypatch) -> None:
    monkeypatch.setattr(clients, "client", lambda *a, **k: (_ for _ in ()).throw(AssertionError("a call")))
    assert alarms.alarm_states(clients, [Resource("Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE", "b")]) == []
