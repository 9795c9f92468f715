"""operations.aws: the Clients factory and the translation of botocore's exceptions."""

import inspect
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import exceptions as bx
from botocore.awsrequest import AWSResponse

from operations import errors
from operations.aws import Clients, Target, aws_errors, translated

ENDPOINT = "http://127.0.0.1:4566"


class CountingSession:
    """A boto3 Session that records the clients it creates."""

    def __init__(self, region: str | None = "us-east-1") -> None:
        self.session = boto3.Session(region_name=region)
        self.created: list[tuple[str, dict]] = []

    @property
    def region_name(self) -> str | None:
        return self.session.region_name

    def client(self, service: str, **kwargs: Any) -> Any:
        self.created.append((service, kwargs))
        return self.session.client(service, **kwargs)


def client_error(code: str, message: str = "it went wrong", operation: str = "PutObject") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_each_client_is_created_once_with_the_endpoint(aws_env: None) -> None:
    session = CountingSession()
    clients = Clients(session, ENDPOINT)
    s3 = clients.client("s3")
    assert clients.client("s3") is s3
    cfn = clients.client("cloudformation")
    assert cfn is not s3 and clients.client("cloudformation") is cfn
    assert [service for service, _ in session.created] == ["s3", "cloudformation"]
    for _, kwargs in session.created:
        assert kwargs["endpoint_url"] == ENDPOINT
        assert kwargs["region_name"] == "us-east-1"
    assert s3.meta.endpoint_url == ENDPOINT
    assert s3.meta.region_name == "us-east-1"


def test_without_an_endpoint_the_clients_use_aws(aws_env: None) -> None:
    clients = Clients(boto3.Session(region_name="eu-west-1"))
    assert (
        clients.client("cloudformation").meta.endpoint_url == "https://cloudformation.eu-west-1.amazonaws.com"
    )


def test_retries_false_is_a_separate_client_with_one_attempt(aws_env: None) -> None:
    session = CountingSession()
    clients = Clients(session, ENDPOINT)
    retrying, once = clients.client("lambda"), clients.client("lambda", retries=False)
    assert once is not retrying
    assert clients.client("lambda", retries=False) is once
    assert len(session.created) == 2
    assert once.meta.config.retries["total_max_attempts"] == 1
    assert once.meta.config.read_timeout == 70  # longer than the function's 29 s timeout
    assert clients.client("s3").meta.config.read_timeout == 60

    def attempts(client: Any) -> int:
        """Send one call that always gets a 500 (retryable), counting what reaches the wire."""
        sent: list[str] = []

        class Body:
            def stream(self, **kwargs: Any) -> Any:
                yield b""

        def answer_500(request: Any, **kwargs: Any) -> AWSResponse:
            sent.append(request.url)
            return AWSResponse(request.url, 500, {}, Body())

        client.meta.events.register("before-send", answer_500)
        with pytest.raises(bx.ClientError):
            client.get_account_settings()
        return len(sent)

    assert attempts(once) == 1
    assert attempts(retrying) > 1


def test_a_session_without_region_raises_no_region(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    clients = Clients(boto3.Session())
    with pytest.raises(errors.NoRegion) as raised:
        _ = clients.region
    assert "--region" in raised.value.hint
    with pytest.raises(errors.NoRegion):
        clients.client("s3")


def test_for_target_uses_profile_and_region(
    aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile work]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would win over the profile's region
    clients = Clients.for_target(Target(profile="work", endpoint_url=ENDPOINT))
    assert clients.region == "eu-west-3"
    assert clients.endpoint_url == ENDPOINT
    assert Clients.for_target(Target(profile="work", region="sa-east-1")).region == "sa-east-1"


def test_for_target_with_an_unknown_profile_is_a_config_error(aws_env: None) -> None:
    with pytest.raises(errors.ConfigError) as raised:
        Clients.for_target(Target(profile="nobody"))
    assert "nobody" in raised.value.message
    assert "list-profiles" in raised.value.hint


def test_target_but_changes_one_field() -> None:
    target = Target(stack="a", region="eu-west-1")
    assert target.but(stack="b") == Target(stack="b", region="eu-west-1")
    assert target.stack == "a"


@pytest.mark.parametrize(
    ("raised", "expected", "in_message"),
    [
        (bx.NoCredentialsError(), errors.NoCredentials, "no AWS credentials"),
        (bx.NoRegionError(), errors.NoRegion, "no AWS region"),
        (
            bx.EndpointConnectionError(endpoint_url="http://localhost:4566"),
            errors.EndpointUnreachable,
            "4566",
        ),
        (bx.ConnectTimeoutError(endpoint_url="https://sts.amazonaws.com"), errors.EndpointUnreachable, "sts"),
        (client_error("AccessDenied", "no s3:PutObject"), errors.AccessDenied, "no s3:PutObject"),
        (client_error("AccessDeniedException"), errors.AccessDenied, "access denied to PutObject"),
        (client_error("ExpiredToken", "token expired"), errors.NoCredentials, "token expired"),
        (bx.ReadTimeoutError(endpoint_url="https://x"), errors.AwsError, "Read timeout"),
    ],
)
def test_aws_errors_translates_botocore_exceptions(
    raised: Exception, expected: type[errors.OperationError], in_message: str
) -> None:
    with pytest.raises(errors.OperationError) as caught, aws_errors():
        raise raised
    assert type(caught.value) is expected
    assert in_message in caught.value.message
    assert caught.value.__suppress_context__  # `from None`: no botocore chain shown to the user


def test_other_client_errors_keep_their_code() -> None:
    with pytest.raises(errors.AwsError) as caught, aws_errors():
        raise client_error("ThrottlingException", "Rate exceeded", "DescribeStacks")
    assert type(caught.value) is errors.AwsError
    assert caught.value.code == "ThrottlingException"
    assert caught.value.message == "DescribeStacks failed: ThrottlingException: Rate exceeded"


def test_operation_errors_and_other_exceptions_pass_through() -> None:
    mine = errors.StackBusy("busy", hint="wait")
    with pytest.raises(errors.StackBusy) as caught, aws_errors():
        raise mine
    assert caught.value is mine
    with pytest.raises(KeyError), aws_errors():
        raise KeyError("not botocore")


def test_translated_functions() -> None:
    @translated
    def operation(code: str) -> str:
        """Doc."""
        if code:
            raise client_error(code)
        return "done"

    assert operation("") == "done"
    assert operation.__name__ == "operation" and operation.__doc__ == "Doc."
    with pytest.raises(errors.AccessDenied):
        operation("AccessDenied")
    with pytest.raises(errors.AwsError, match="NoSuchBucket"):
        operation("NoSuchBucket")


def test_translated_generators_stay_lazy_and_translate_while_iterating() -> None:
    started: list[bool] = []

    @translated
    def events(n: int) -> Any:
        started.append(True)
        yield from range(n)
        raise bx.EndpointConnectionError(endpoint_url="http://cfn")

    assert inspect.isgeneratorfunction(events)
    stream = events(2)
    assert started == []  # nothing runs (and nothing raises) before iteration
    assert next(stream) == 0
    assert next(stream) == 1
    with pytest.raises(errors.EndpointUnreachable, match="http://cfn"):
        next(stream)


def test_a_translated_generator_can_be_closed_early() -> None:
    closed: list[bool] = []

    @translated
    def events() -> Any:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    stream = events()
    assert next(stream) == 1
    stream.close()
    assert closed == [True]


def test_no_credentials_end_to_end(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    clients = Clients(boto3.Session(region_name="us-east-1"), "http://127.0.0.1:9")
    with pytest.raises(errors.NoCredentials) as raised:
        clients.account_id()
    assert "aws configure" in raised.value.hint


def test_an_unreachable_endpoint_end_to_end(aws_env: None) -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"), "http://127.0.0.1:9")
    with pytest.raises(errors.EndpointUnreachable, match=r"127\.0\.0\.1:9"), aws_errors():
        clients.client("sts", retries=False).get_caller_identity()


def test_account_id(clients: Clients) -> None:
    assert clients.account_id() == "123456789012"
