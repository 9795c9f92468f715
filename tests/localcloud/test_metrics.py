"""The local cloud's metrics: EMF extraction, AWS/Lambda metrics, percentiles in moto, a real Runtime."""

import io
import json
import textwrap
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.cloudwatch.models import CloudWatchBackend

from localcloud import lambda_runtime, metric_statistics, metrics, moto_lambda
from localcloud.emf_ingestion import extract_emf
from localcloud.lambda_metrics import publish_invocation
from localcloud.lambda_runtime import FunctionSpec, Invocation
from localcloud.metrics import Datum
from resizer_function import handler
from tests.conftest import patched_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
FUNCTION = "resizer-resize"
BY_FUNCTION = (("FunctionName", FUNCTION),)


# extract_emf ------------------------------------------------------------------------------------


def handler_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, record: dict) -> str:
    """The one log line resizer_function.handler writes for a request record."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    capsys.readouterr()
    handler.log(record)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    return lines[0]


def by_name(data: list[Datum]) -> dict[tuple[str, tuple], Datum]:
    found = {(d.name, d.dimensions): d for d in data}
    assert len(found) == len(data), "one datum per metric and dimension set"
    return found


def test_the_handlers_request_line_gives_its_metrics_by_function(monkeypatch, capsys) -> None:
    record = {
        "request_id": "r-1",
        "path": "/300x200/cat.jpg",
        "status": 302,
        "source_bytes": 123456,
        "source_pixels": 4000 * 3000,
        "output_bytes": 20480,
        "ms": {"fetch": 5.0, "decode": 10.0, "resize": 20.5, "encode": 7.25, "store": 4.0, "total": 50.0},
    }
    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    data = by_name(extract_emf(handler_line(monkeypatch, capsys, record)))

    assert {(name, unit, values) for (name, _), (unit, values) in _units_values(data).items()} == {
        ("ResizeMs", "Milliseconds", (37.75,)),
        ("SourceBytes", "Bytes", (123456.0,)),
        ("OutputBytes", "Bytes", (20480.0,)),
        ("TotalMs", "Milliseconds", (50.0,)),
    }
    assert {dims for _, dims in data} == {BY_FUNCTION}
    for datum in data.values():
        assert datum.namespace == "Resizer"
        assert before <= datum.timestamp <= before + timedelta(seconds=5)


def _units_values(data: dict) -> dict:
    return {key: (d.unit, d.values) for key, d in data.items()}


def test_an_error_line_gives_errors_by_function_and_error_code(monkeypatch, capsys) -> None:
    record = {
        "path": "/300x200/nothing.jpg",
        "status": 404,
        "error": "not_found",
        "ms": {"fetch": 3, "total": 4.5},
    }
    data = by_name(extract_emf(handler_line(monkeypatch, capsys, record)))

    assert set(data) == {
        ("TotalMs", BY_FUNCTION),
        ("Errors", (("FunctionName", FUNCTION), ("ErrorCode", "not_found"))),
    }
    errors = data["Errors", (("FunctionName", FUNCTION), ("ErrorCode", "not_found"))]
    assert (errors.namespace, errors.values, errors.unit) == ("Resizer", (1.0,), "Count")
    assert data["TotalMs", BY_FUNCTION].values == (4.5,)


def emf_line(directives: list, timestamp: object = 1_700_000_000_000, **members: object) -> str:
    return json.dumps({"_aws": {"Timestamp": timestamp, "CloudWatchMetrics": directives}, **members})


def test_emf_arrays_dimension_sets_units_and_timestamp() -> None:
    line = emf_line(
        [
            {
                "Namespace": "App",
                "Dimensions": [["Service"], ["Service", "Region"], []],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Hits"}, {"Name": "Gone"}],
            },
            {"Namespace": "Other", "Dimensions": [], "Metrics": [{"Name": "Hits", "Unit": "Furlongs"}]},
        ],
        Service="api",
        Region="eu",
        Latency=[1, 2.5, 3],
        Hits=7,
        Gone="not a number",
    )
    data = extract_emf(line)
    at = datetime(2023, 11, 14, 22, 13, 20)
    assert set(data) == {
        Datum("App", "Latency", (("Service", "api"),), (1.0, 2.5, 3.0), "Milliseconds", at),
        Datum("App", "Latency", (("Service", "api"), ("Region", "eu")), (1.0, 2.5, 3.0), "Milliseconds", at),
        Datum("App", "Latency", (), (1.0, 2.5, 3.0), "Milliseconds", at),
        Datum("App", "Hits", (("Service", "api"),), (7.0,), "None", at),
        Datum("App", "Hits", (("Service", "api"), ("Region", "eu")), (7.0,), "None", at),
        Datum("App", "Hits", (), (7.0,), "None", at),
        Datum("Other", "Hits", (), (7.0,), "None", at),
    }


@pytest.mark.parametrize(
    "line",
    [
        "",
        "START RequestId: 1 Version: $LATEST",
        '{"level": "INFO", "Latency": 3}',
        '{"_aws": "nope", "Latency": 3}',
        "{broken _aws",
        emf_line([{"Namespace": "App", "Metrics": [{"Name": "Latency"}]}], timestamp=None, Latency=3),
        emf_line([{"Namespace": "App", "Metrics": [{"Name": "Latency"}]}], timestamp="now", Latency=3),
        emf_line([{"Metrics": [{"Name": "Latency"}]}], Latency=3),
        emf_line(
            [{"Namespace": "App", "Dimensions": [["Missing"]], "Metrics": [{"Name": "Latency"}]}], Latency=3
        ),
        emf_line(
            [{"Namespace": "App", "Dimensions": [["N"]], "Metrics": [{"Name": "Latency"}]}], N=1, Latency=3
        ),
        emf_line([{"Namespace": "App", "Dimensions": ["Flat"], "Metrics": [{"Name": "L"}]}], Flat="x", L=3),
        emf_line([{"Namespace": "App", "Metrics": [{"Unit": "Count"}]}], Latency=3),
        emf_line([{"Namespace": "App", "Metrics": [{"Name": "Flag"}]}], Flag=True),
        emf_line([{"Namespace": "App", "Metrics": [{"Name": "L"}]}], L=list(range(101))),
        emf_line([{"Namespace": "App", "Metrics": [{"Name": "L"}]}], L=[]),
    ],
)
def test_lines_that_are_not_valid_emf_give_no_metrics(line: str) -> None:
    assert extract_emf(line) == []


def test_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert metric_statistics.nearest_rank(values, 50) == 50
    assert metric_statistics.nearest_rank(values, 99) == 99
    assert metric_statistics.nearest_rank(values, 99.9) == 100
    assert metric_statistics.nearest_rank(values, 0) == 1
    assert metric_statistics.nearest_rank([3.0], 99) == 3
    assert metric_statistics.nearest_rank([1.0, 2.0], 50) == 1
    assert [
        metric_statistics.percentile_of(s) for s in ("p50", "p99.9", "P90", "p100", "p101", "tm99", "Sum")
    ] == [
        50,
        99.9,
        90,
        100,
        None,
        None,
        None,
    ]


# moto, in process -------------------------------------------------------------------------------


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    with patched_moto(metrics):  # uninstalled after: the rest of the suite may expect plain moto
        yield


def spec(name: str = FUNCTION) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        handler="resizer_function.handler.handler",
        runtime="python3.12",
        memory_mb=1536,
        timeout_s=30,
        code_sha256="x",
        environment=(),
        log_group=f"/aws/lambda/{name}",
        reserved_concurrency=None,
    )


def invocation(duration_ms: float, error: bool = False) -> Invocation:
    return Invocation("r", b"{}", "Unhandled" if error else None, [], duration_ms, 1, 1536, 100)


def query(
    metric: str, stat: str, dimensions=BY_FUNCTION, namespace: str = "AWS/Lambda", period: int = 60
) -> dict:
    return {
        "Metric": {
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
        },
        "Stat": stat,
        "Period": period,
    }


def metric_data(*queries: dict, minutes: int = 10) -> list[list[float]]:
    """Each query's values over [now - minutes, now + minutes), one period each."""
    now = datetime.now(UTC)
    reply = boto3.client("cloudwatch", region_name=REGION).get_metric_data(
        MetricDataQueries=[{"Id": f"q{i}", "MetricStat": q} for i, q in enumerate(queries)],
        StartTime=now - timedelta(minutes=minutes),
        EndTime=now + timedelta(minutes=minutes),
        ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r["Values"] for r in reply["MetricDataResults"]}
    return [results[f"q{i}"] for i in range(len(queries))]


def whole(metric: str, stat: str, **kwargs) -> list[float]:
    """One value over the whole 20-minute window."""
    return metric_data(query(metric, stat, period=1200, **kwargs))[0]


def test_publish_invocation_gives_lambdas_metrics(aws) -> None:
    durations = [float(d) for d in range(20, 0, -1)]  # 20 invocations, 1..20 ms
    for index, duration in enumerate(durations):
        publish_invocation(spec(), invocation(duration, error=index % 7 == 0), concurrency=1 + index % 4)
    publish_invocation(spec(), None, concurrency=4)  # a throttle
    publish_invocation(spec("other"), invocation(1000.0, error=True))

    assert whole("Invocations", "Sum") == [20]
    assert whole("Errors", "Sum") == [3]
    assert whole("Errors", "SampleCount") == [20]
    assert whole("Throttles", "Sum") == [1]
    assert whole("Duration", "Average") == [10.5]
    assert whole("Duration", "Maximum") == [20]
    assert whole("Duration", "Minimum") == [1]
    p50, p90, p99 = whole("Duration", "p50"), whole("Duration", "p90"), whole("Duration", "p99")
    assert (p50, p90, p99) == ([10], [18], [20])
    assert p99 >= p50
    assert whole("ConcurrentExecutions", "Maximum") == [4]
    # the account-wide series (no dimensions) has both functions, the other function only its own
    assert whole("Invocations", "Sum", dimensions=()) == [21]
    assert whole("Duration", "Maximum", dimensions=()) == [1000]
    assert whole("Errors", "Sum", dimensions=(("FunctionName", "other"),)) == [1]


def test_percentiles_by_period_and_timestamps(aws) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first, second = now - timedelta(minutes=3), now - timedelta(minutes=2)
    cloudwatch.put_metric_data(
        Namespace="App",
        MetricData=[
            {"MetricName": "Latency", "Values": [1, 2, 3, 4], "Timestamp": first + timedelta(seconds=10)},
            {"MetricName": "Latency", "Values": [100, 200], "Timestamp": second + timedelta(seconds=59)},
        ],
    )
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "p", "MetricStat": query("Latency", "p75", (), "App")},
            {"Id": "s", "MetricStat": query("Latency", "Sum", (), "App"), "ReturnData": False},
            {"Id": "e", "Expression": "s"},
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now,
        ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r for r in reply["MetricDataResults"]}
    assert set(results) == {"p", "e"}
    assert results["p"]["Values"] == [3, 200]
    assert [t.replace(tzinfo=None) for t in results["p"]["Timestamps"]] == [
        first.replace(tzinfo=None),
        second.replace(tzinfo=None),
    ]
    assert results["e"]["Values"] == [10, 300]
    descending = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "p", "MetricStat": query("Latency", "p99.9", (), "App")}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now,
        ScanBy="TimestampDescending",
    )
    assert descending["MetricDataResults"][0]["Values"] == [200, 4]


def test_get_metric_statistics_with_extended_statistics(aws) -> None:
    for duration in range(1, 101):
        publish_invocation(spec(), invocation(float(duration)))
    now = datetime.now(UTC)
    reply = boto3.client("cloudwatch", region_name=REGION).get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=1200,
        Statistics=["SampleCount", "Maximum"],
        ExtendedStatistics=["p50", "p90", "p99", "p99.9"],
    )
    [point] = reply["Datapoints"]
    assert (point["SampleCount"], point["Maximum"], point["Unit"]) == (100, 100, "Milliseconds")
    assert point["ExtendedStatistics"] == {"p50": 50, "p90": 90, "p99": 99, "p99.9": 100}
    only_extended = boto3.client("cloudwatch", region_name=REGION).get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=1200,
        ExtendedStatistics=["p50"],
    )
    [point] = only_extended["Datapoints"]
    assert point["ExtendedStatistics"] == {"p50": 1} and "Sum" not in point


def test_dimensions_match_exactly_in_any_order(aws) -> None:
    both = [("FunctionName", FUNCTION), ("ErrorCode", "not_found")]
    metrics.put(
        ACCOUNT,
        REGION,
        [
            Datum("Resizer", "Errors", tuple(both), (1.0,), "Count", metrics.now()),
            Datum(
                "Resizer",
                "Errors",
                (("ErrorCode", "not_found"), ("FunctionName", FUNCTION)),
                (1.0,),
                "Count",
                metrics.now(),
            ),
            Datum("Resizer", "Errors", BY_FUNCTION, (5.0,), "Count", metrics.now()),
        ],
    )
    publish_invocation(spec(), invocation(1.0, error=True))  # AWS/Lambda Errors, same dimension
    assert whole("Errors", "Sum", namespace="Resizer", dimensions=both) == [2]
    assert whole("Errors", "Sum", namespace="Resizer", dimensions=both[::-1]) == [2]
    assert whole("Errors", "Sum", namespace="Resizer") == [5]
    assert whole("Errors", "Sum") == [1]
    assert whole("Errors", "Sum", namespace="Resizer", dimensions=()) == []


def test_percentiles_of_statistic_sets_need_identical_values(aws) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    stats = {"SampleCount": 3, "Sum": 30, "Minimum": 10, "Maximum": 10}
    cloudwatch.put_metric_data(Namespace="A", MetricData=[{"MetricName": "Same", "StatisticValues": stats}])
    spread = {"SampleCount": 3, "Sum": 30, "Minimum": 5, "Maximum": 15}
    cloudwatch.put_metric_data(
        Namespace="A", MetricData=[{"MetricName": "Spread", "StatisticValues": spread}]
    )
    assert whole("Same", "p90", namespace="A", dimensions=()) == [10]
    assert whole("Spread", "p90", namespace="A", dimensions=()) == []
    assert whole("Spread", "Average", namespace="A", dimensions=()) == [10]


def test_an_unsupported_statistic_is_a_client_error(aws) -> None:
    with pytest.raises(ClientError) as error:
        whole("Duration", "tm99")
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_uninstall_restores_moto() -> None:
    originals = (
        CloudWatchBackend.get_metric_data,
        CloudWatchBackend.get_metric_statistics,
        moto_lambda.write_log,
    )
    metrics.install()
    metrics.install()  # idempotent
    assert CloudWatchBackend.get_metric_data is metric_statistics.get_metric_data
    metrics.uninstall()
    assert (
        CloudWatchBackend.get_metric_data,
        CloudWatchBackend.get_metric_statistics,
        moto_lambda.write_log,
    ) == originals


# Through a real Runtime ------------------------------------------------------------------------

FUNCTION_CODE = textwrap.dedent(
    """
    import json
    import time


    def handler(event, context):
        if event.get("fail"):
            raise ValueError("asked to fail")
        print(json.dumps({
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": "Test",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": "Work", "Unit": "Count"}],
                }],
            },
            "FunctionName": context.function_name,
            "Work": event.get("work", 1),
        }))
        return {"ok": True}
    """
)


def zipped(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", code)
    return buffer.getvalue()


@pytest.fixture
def runtime(aws, tmp_path: Path) -> Iterator[lambda_runtime.Runtime]:
    local = lambda_runtime.Runtime(
        tmp_path,
        lambda *args: None,
        endpoint_url="http://127.0.0.1:9",
        on_invoked=lambda spec, outcome: publish_invocation(spec, outcome, runtime=local),
    )
    moto_lambda.install(local)
    try:
        yield local
    finally:
        moto_lambda.uninstall()  # moto's own invoke again, for the rest of the suite
        local.shutdown()


def test_invocations_through_the_runtime_publish_lambda_and_emf_metrics(runtime) -> None:
    role = boto3.client("iam").create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    no_retries = Config(retries={"total_max_attempts": 1})  # each retry of a throttle is a throttle
    lam = boto3.client("lambda", region_name=REGION, config=no_retries)
    lam.create_function(
        FunctionName="emf-fn",
        Runtime="python3.12",
        Role=role,
        Handler="fn.handler",
        Code={"ZipFile": zipped(FUNCTION_CODE)},
        Timeout=10,
    )
    started = time.monotonic()
    for work in (1, 2, 3, 4, None):
        event = {"fail": True} if work is None else {"work": work}
        reply = lam.invoke(FunctionName="emf-fn", Payload=json.dumps(event).encode())
        assert ("FunctionError" in reply) == (work is None)
    assert time.monotonic() - started < 10

    fn = (("FunctionName", "emf-fn"),)
    assert whole("Invocations", "Sum", dimensions=fn) == [5]
    assert whole("Errors", "Sum", dimensions=fn) == [1]
    assert whole("ConcurrentExecutions", "Maximum", dimensions=fn) == [1]
    assert len(whole("Duration", "p99", dimensions=fn)) == 1
    assert whole("Work", "Sum", namespace="Test", dimensions=fn) == [10]
    assert whole("Work", "SampleCount", namespace="Test", dimensions=fn) == [4]

    lam.put_function_concurrency(FunctionName="emf-fn", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        lam.invoke(FunctionName="emf-fn", Payload=b"{}")
    assert whole("Throttles", "Sum", dimensions=fn) == [1]
    assert whole("Invocations", "Sum", dimensions=fn) == [5]
