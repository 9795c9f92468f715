"""The function reads its signing key from an SSM SecureString once per container (moto in-process)."""

import json

import boto3
import pytest
from moto import mock_aws

from resizer_function import handler as handler_module
from resizer_function import signing_key
from resizer_function.handler import handler
from resizer_function.signing import sign
from tests.resizer_function.images import encoded, marked

NAME = "/resizer/test/signing-key"


class Context:
    aws_request_id = "req-key"


@pytest.fixture
def aws(aws_env, monkeypatch):
    for name, value in {
        "BUCKET": "images",
        "DELIVERY": "cdn",
        "SIGNING_KEY_PARAMETER": NAME,
    }.items():
        monkeypatch.setenv(name, value)
    caches = (handler_module.s3_client, signing_key.ssm_client, signing_key.load)
    for cached in caches:
        cached.cache_clear()
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="images")
        s3.put_object(Bucket="images", Key="pic.png", Body=encoded(marked(64, 48), "PNG"))
        yield boto3.client("ssm")
    for cached in caches:
        cached.cache_clear()


@pytest.fixture
def ssm_calls(aws, monkeypatch):
    """Every GetParameter the function makes, by the name it asked for."""
    calls: list[str] = []
    client = signing_key.ssm_client()
    original = client.get_parameter

    def counted(**kwargs):
        calls.append(kwargs["Name"])
        assert kwargs["WithDecryption"] is True
        return original(**kwargs)

    monkeypatch.setattr(client, "get_parameter", counted)
    return calls


def event(path: str, query: str = "") -> dict:
    params = dict(pair.split("=", 1) for pair in query.split("&")) if query else None
    return {
        "httpMethod": "GET",
        "path": path,
        "pathParameters": {"proxy": path[1:]},
        "queryStringParameters": params,
    }


def status(path: str, key: str | None) -> int:
    return handler(event(path, sign(path, key) if key else ""), Context())["statusCode"]


def test_the_key_is_read_once_per_container_and_never_logged(aws, ssm_calls, capsys):
    aws.put_parameter(Name=NAME, Value="first-key", Type="SecureString")
    assert status("/10x/pic.png", "first-key") == 200
    assert status("/11x/pic.png", "first-key") == 200
    assert status("/12x/pic.png", None) == 403
    assert status("/13x/pic.png", "other-key") == 403
    assert ssm_calls == [NAME]  # four requests, one read
    assert "first-key" not in capsys.readouterr().out


def test_the_version_in_the_environment_is_the_one_read(aws, ssm_calls, monkeypatch):
    aws.put_parameter(Name=NAME, Value="first-key", Type="SecureString")
    aws.put_parameter(Name=NAME, Value="second-key", Type="SecureString", Overwrite=True)
    monkeypatch.setenv("SIGNING_KEY_VERSION", "1")
    assert status("/10x/pic.png", "first-key") == 200
    assert status("/10x/pic.png", "second-key") == 403
    monkeypatch.setenv("SIGNING_KEY_VERSION", "2")  # a deploy with a new key: a new configuration
    assert status("/11x/pic.png", "second-key") == 200
    assert ssm_calls == [f"{NAME}:1", f"{NAME}:2"]


def test_a_missing_parameter_is_a_logged_500_and_is_read_again_next_time(aws, ssm_calls, capsys):
    assert status("/10x/pic.png", "k") == 500
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["error"] == "internal_error" and "ParameterNotFound" in line["exception"]
    aws.put_parameter(Name=NAME, Value="k", Type="SecureString")
    assert status("/10x/pic.png", "k") == 200  # a failure is not cached
    assert ssm_calls == [NAME, NAME]


def test_a_plain_string_parameter_is_refused(aws, capsys):
    aws.put_parameter(Name=NAME, Value="k", Type="String")
    assert status("/10x/pic.png", "k") == 500
    assert "not a SecureString" in capsys.readouterr().out


def test_signing_off_reads_nothing(aws, ssm_calls, monkeypatch):
    monkeypatch.setenv("SIGNING_KEY_PARAMETER", "")
    assert status("/10x/pic.png", None) == 200
    assert ssm_calls == []
