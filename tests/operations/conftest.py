"""Shared fixtures of the operations tests: fast lint, a Deployer on moto, a scripted CloudFormation.

Dummy credentials, moto, Clients and the fake package.build are the root tests/conftest.py's.
Nothing here is autouse: each test asks for what it needs.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from operations import deploy
from operations.aws import Clients, Target
from operations.config import Settings
from operations.stack import StackEvent
from tests.conftest import ACCOUNT, REGION, FakeBuild

NO_SLEEP: Callable[[float], None] = lambda seconds: None  # noqa: E731

# moto's CloudFormation skips the Stage, the BucketPolicy and the alarms of the template with these
# warnings; the modules that deploy use this list as their pytestmark, so only they ignore them.
MOTO_WARNINGS = [
    pytest.mark.filterwarnings("ignore:Tried to parse AWS.* but it.s not supported by moto:UserWarning"),
    pytest.mark.filterwarnings("ignore:Unable to delete .*, as it was never created:UserWarning"),
]


def signing_key_of(variables: dict) -> str:
    """The key the function reads: the SSM SecureString (at its version) its environment names."""
    name, version = variables["SIGNING_KEY_PARAMETER"], variables["SIGNING_KEY_VERSION"]
    found = boto3.client("ssm").get_parameter(Name=f"{name}:{version}", WithDecryption=True)["Parameter"]
    assert found["Type"] == "SecureString" and found["Value"] not in str(variables)
    return found["Value"]


@dataclass
class Deployer:
    """Plan and execute deploys against moto, the way the CLI does with --yes."""

    clients: Clients
    build: FakeBuild

    def settings(self, stack_name: str = "resizer", **parameters: str) -> Settings:
        # Plain moto has no CloudFront models (the local cloud's are localcloud.cfn_resources.cloudfront,
        # tested in tests/localcloud): these tests deploy the website delivery unless told otherwise.
        return Settings(Target(stack=stack_name, region=REGION), {"Delivery": "website", **parameters})

    def plan(self, stack_name: str = "resizer", **parameters: str) -> deploy.Plan:
        return deploy.plan(self.clients, self.settings(stack_name, **parameters), sleep=NO_SLEEP)

    def execute(self, planned: deploy.Plan) -> list[Any]:
        events = list(deploy.execute(self.clients, planned, sleep=NO_SLEEP, poll=0))
        fill_moto_outputs()
        return events

    def deploy(self, stack_name: str = "resizer", **parameters: str) -> tuple[deploy.Plan, list[Any]]:
        planned = self.plan(stack_name, **parameters)
        return planned, self.execute(planned)

    @property
    def cfn(self) -> Any:
        return self.clients.client("cloudformation")

    def function(self, name: str = "resizer-resize") -> dict:
        return self.clients.client("lambda").get_function_configuration(FunctionName=name)


@pytest.fixture
def deployer(clients: Clients, fake_build: FakeBuild, fast_lint: None) -> Deployer:
    return Deployer(clients, fake_build)


def fill_moto_outputs() -> None:
    """moto never computes the Outputs of a stack created or updated through a change set (it builds
    them from the empty template the stack had in REVIEW_IN_PROGRESS); real CloudFormation always
    has them after a successful deploy, so compute them here from the executed template."""
    from moto.cloudformation.models import cloudformation_backends

    for candidate in cloudformation_backends[ACCOUNT][REGION].stacks.values():
        if candidate.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") and candidate.template:
            candidate._parse_template()
            candidate.output_map = candidate._create_output_map()


def set_moto_status(name: str, status: str) -> None:
    """Put a moto stack in a state moto itself never reaches (ROLLBACK_COMPLETE, UPDATE_IN_PROGRESS...)."""
    from moto.cloudformation.models import cloudformation_backends

    for candidate in cloudformation_backends[ACCOUNT][REGION].stacks.values():
        if candidate.name == name:
            candidate.status = status
            return
    raise AssertionError(f"no moto stack {name}")


def describing(status: str, name: str = "resizer") -> Callable[[Any, str], dict]:
    """A replacement for stack.describe that reports the stack in ``status``."""
    stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0f0e"

    def describe(cfn: Any, stack_name: str) -> dict:
        return {
            "StackName": name,
            "StackId": stack_id,
            "StackStatus": status,
            "Parameters": [],
            "Outputs": [],
        }

    return describe


# --- a scripted CloudFormation: botocore's Stubber on a real client ----------------------------------

STACK = "resizer"
STACK_TYPE = "AWS::CloudFormation::Stack"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/resizer/4f1a2b3c"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
GET_OBJECT_FAILED = (
    'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: NoSuchKey. '
    'S3 Error Message: The specified key does not exist." (HandlerErrorCode: InvalidRequest)'
)


def raw_event(n: int, logical: str, kind: str, status: str, reason: str | None = None) -> dict:
    """Event ``n`` (its id is e<n>, n seconds after T0), in DescribeStackEvents' shape."""
    event = {
        "EventId": f"e{n}",
        "StackId": STACK_ID,
        "StackName": STACK,
        "LogicalResourceId": logical,
        "PhysicalResourceId": STACK_ID if kind == "AWS::CloudFormation::Stack" else f"{logical}-phys",
        "ResourceType": kind,
        "Timestamp": T0 + timedelta(seconds=n),
        "ResourceStatus": status,
    }
    if reason is not None:
        event["ResourceStatusReason"] = reason
    return event


def stack_event(n: int, logical: str, kind: str, status: str, reason: str = "") -> StackEvent:
    return StackEvent.from_api(raw_event(n, logical, kind, status, reason))


FUNCTION = "AWS::Lambda::Function"
BUCKET = "AWS::S3::Bucket"
API = "AWS::ApiGateway::RestApi"

# A first deploy whose Function fails because the zip is missing; CloudFormation cancels the
# RestApi that was being created at the same time, then rolls back (keeping the Retain bucket).
FAILED_CREATE = [
    raw_event(0, STACK, STACK_TYPE, "REVIEW_IN_PROGRESS", "User Initiated"),
    raw_event(1, STACK, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
    raw_event(2, "ImagesBucket", BUCKET, "CREATE_IN_PROGRESS"),
    raw_event(3, "ImagesBucket", BUCKET, "CREATE_COMPLETE"),
    raw_event(4, "RestApi", API, "CREATE_IN_PROGRESS"),
    raw_event(5, "Function", FUNCTION, "CREATE_IN_PROGRESS"),
    raw_event(6, "Function", FUNCTION, "CREATE_FAILED", GET_OBJECT_FAILED),
    raw_event(7, "RestApi", API, "CREATE_FAILED", "Resource creation cancelled"),
    raw_event(
        8,
        STACK,
        STACK_TYPE,
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [Function, RestApi]. Rollback requested by user.",
    ),
    raw_event(9, "RestApi", API, "DELETE_COMPLETE"),
    raw_event(10, "ImagesBucket", BUCKET, "DELETE_SKIPPED"),
    raw_event(11, STACK, STACK_TYPE, "ROLLBACK_COMPLETE"),
]


def newest_first(events: list[dict]) -> dict:
    return {"StackEvents": list(reversed(events))}


def described(status: str, **extra: object) -> dict:
    return {
        "Stacks": [
            {"StackId": STACK_ID, "StackName": STACK, "CreationTime": T0, "StackStatus": status, **extra}
        ]
    }


@pytest.fixture
def cfn(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    """A real CloudFormation client (no network: every call must be stubbed) and its Stubber."""
    client = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def poll(stubber: Stubber, status: str, events: list[dict], name: str = STACK_ID) -> None:
    """One round of watch: the stack's status, then its events (newest first, one page)."""
    stubber.add_response("describe_stacks", described(status), {"StackName": name})
    stubber.add_response("describe_stack_events", newest_first(events), {"StackName": name})


class Sleeps(list):
    """A sleep that only records how long it was asked to sleep."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class StubClients:
    """Clients whose only service is the stubbed CloudFormation client."""

    region = "us-east-1"

    def __init__(self, cfn: Any) -> None:
        self.cfn = cfn

    def client(self, service: str, *, retries: bool = True) -> Any:
        assert service == "cloudformation"
        return self.cfn
