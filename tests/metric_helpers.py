"""put_lambda_metrics: a function's AWS/Lambda datapoints for tests, as Lambda publishes them."""

from datetime import datetime
from typing import Any

import boto3


def put_lambda_metrics(function: str, at: datetime, client: Any = None, **values: float) -> None:
    """One datapoint per metric (``Invocations=4.0, Errors=1.0, ...``) for ``function`` at ``at``;
    ``client`` defaults to boto3's CloudWatch client (the in-process moto)."""
    dims = [{"Name": "FunctionName", "Value": function}]
    (client or boto3.client("cloudwatch")).put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": at}
            for name, value in values.items()
        ],
    )
