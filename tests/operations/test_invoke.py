"""operations.invoke: the API Gateway event of a path, the proxy response in a payload, and invoke()
with a scripted Lambda client whose invocation writes its log lines into moto's CloudWatch Logs."""

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest

from operations import invoke as invoke_op
from operations.aws import Clients
from operations.errors import ConfigError, StackNotFound
from operations.invoke import InvokeResult, resize_event
from operations.logs import LogEvent, Report
from resizer_function import handler
from tests.log_helpers import put_log_lines

# --- resize_event ---------------------------------------------------------------------------------


def test_resize_event_is_a_rest_api_proxy_event() -> None:
    event = resize_event("300x200/photo.jpg")
    assert event["resource"] == "/{proxy+}"
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/300x200/photo.jpg"
    assert event["pathParameters"] == {"proxy": "300x200/photo.jpg"}
    assert event["requestContext"]["path"] == "/prod/300x200/photo.jpg"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["resourcePath"] == "/{proxy+}"
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["isBase64Encoded"] is False and event["body"] is None
    assert resize_event("/300x200/photo.jpg")["path"] == "/300x200/photo.jpg", "a leading slash is fine"
    json.dumps(event)  # a payload


def test_resize_event_ids_are_unique() -> None:
    assert (
        resize_event("1x1/a.jpg")["requestContext"]["requestId"]
        != resize_event("1x1/a.jpg")["requestContext"]["requestId"]
    )


@pytest.mark.parametrize(
    ("given", "path", "proxy"),
    [
        ("300x200/my photo.jpg", "/300x200/my%20photo.jpg", "300x200/my photo.jpg"),
        ("300x200/my%20photo.jpg", "/300x200/my%20photo.jpg", "300x200/my photo.jpg"),
        ("100x/été/çà.jpg", "/100x/%C3%A9t%C3%A9/%C3%A7%C3%A0.jpg", "100x/été/çà.jpg"),
        ("100x/a+b.jpg", "/100x/a%2Bb.jpg", "100x/a+b.jpg"),
        ("100x/a%2Bb.jpg", "/100x/a%2Bb.jpg", "100x/a+b.jpg"),
        ("300x200,q70,webp/albums/2024/cat.jpg", "/300x200,q70,webp/albums/2024/cat.jpg", None),
        ("100x/50%25.jpg", "/100x/50%25.jpg", "100x/50%.jpg"),
        ("100x/%E2%9C%93 ok.jpg", "/100x/%E2%9C%93%20ok.jpg", "100x/✓ ok.jpg"),
    ],
)
def test_resize_event_encodes_the_path_and_decodes_the_proxy(
    given: str, path: str, proxy: str | None
) -> None:
    event = resize_event(given)
    assert event["path"] == path
    assert event["requestContext"]["path"] == "/prod" + path
    assert event["pathParameters"]["proxy"] == (proxy or path[1:])
    assert unquote(event["path"]) == "/" + event["pathParameters"]["proxy"]
    assert " " not in event["path"] and all(ord(c) < 128 for c in event["path"])


def test_resize_event_is_read_by_the_handler_as_the_path_it_was_given() -> None:
    # The function decodes `path` itself; whatever resize_event encodes must come back unchanged.
    for key in ("a b+c.jpg", "été/ü.png", "50%.jpg", "x,y;z=1@2.jpg"):
        event = resize_event(f"100x/{key}")
        assert unquote(event["path"], errors="strict") == f"/100x/{key}"


def test_resize_event_with_a_query_and_a_stage() -> None:
    event = resize_event("100x/a.jpg", query={"sig": "abc", "expires": "1"}, stage="dev")
    assert event["queryStringParameters"] == {"sig": "abc", "expires": "1"}
    assert event["multiValueQueryStringParameters"] == {"sig": ["abc"], "expires": ["1"]}
    assert event["requestContext"]["path"] == "/dev/100x/a.jpg"


@pytest.mark.parametrize("path", ["", "/", "   ", " / ", "//"])
def test_resize_event_refuses_an_empty_path(path: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resize_event(path)
    assert "300x200/photo.jpg" in raised.value.message


def test_resize_event_through_the_real_handler_without_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # A path the grammar refuses never reaches S3: the handler answers 400 with the canonical path.
    monkeypatch.setenv("BUCKET", "no-such-bucket")
    reply = handler.handler(resize_event("300x200,webp,q5/sample.jpg"), None)
    assert reply["statusCode"] == 400
    assert json.loads(reply["body"])["canonical"] == "/300x200,q5,webp/sample.jpg"


# --- InvokeResult ---------------------------------------------------------------------------------


def result(payload: Any) -> InvokeResult:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return InvokeResult("r", None, data, None)


def test_http_of_a_base64_image() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x01\x02\xff"
    found = result(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png", "Content-Length": len(png)},
            "body": base64.b64encode(png).decode(),
            "isBase64Encoded": True,
        }
    ).http
    assert found is not None
    assert (found.status, found.body, found.content_type) == (200, png, "image/png")
    assert found.headers["Content-Length"] == str(len(png))


def test_http_of_a_text_body() -> None:
    body = {"error": "not_found", "message": "no such image: é.jpg"}
    found = result(
        {"statusCode": "404", "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
    ).http
    assert found.status == 404
    assert json.loads(found.body) == body
    assert found.content_type == "application/json", "header names are case-insensitive"


def test_http_of_a_redirect_without_a_body() -> None:
    found = result({"statusCode": 302, "headers": {"Location": "http://x/300x200/a.jpg"}, "body": None}).http
    assert (found.status, found.body, found.content_type) == (302, b"", "")
    assert found.headers == {"Location": "http://x/300x200/a.jpg"}
    assert result({"statusCode": 204}).http.headers == {}


@pytest.mark.parametrize(
    "payload", [{"ok": True}, [1, 2], b"not json", b"", {"errorMessage": "boom", "errorType": "RuntimeError"}]
)
def test_http_of_a_payload_that_is_not_a_proxy_response(payload: Any) -> None:
    assert result(payload).http is None


def test_payload_json() -> None:
    assert result({"a": 1}).payload_json == {"a": 1}
    assert result(b"\xff\xfe").payload_json is None
    assert result(b"").payload_json is None


# --- invoke() against a scripted Lambda and moto's CloudWatch Logs --------------------------------

REQUEST_ID = "6c2b1a3e-9d8f-4e7a-8b6c-5d4e3f2a1b0c"
FUNCTION = "resizer-resize"
GROUP = f"/aws/lambda/{FUNCTION}"


def tail_of(request_id: str, *middle: str, init: bool = True) -> list[str]:
    report = (
        f"REPORT RequestId: {request_id}\tDuration: 41.50 ms\tBilled Duration: 42 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 90 MB\t"
    )
    if init:
        report += "Init Duration: 300.25 ms\t"
    return [
        f"START RequestId: {request_id} Version: $LATEST",
        *middle,
        f"END RequestId: {request_id}",
        report,
    ]


class ScriptedLambda:
    """Answers Invoke like Lambda; writes the lines to moto's log group like the runtime does."""

    def __init__(self, logs: Any, payload: bytes, lines: list[str], *, error: str | None = None) -> None:
        self.logs = logs
        self.payload = payload
        self.lines = lines
        self.error = error
        self.calls: list[dict] = []
        self.write_logs = True
        self.response_request_id = "from-the-response-metadata"

    def invoke(self, **kwargs: Any) -> dict:
        self.calls.append(kwargs)
        if self.write_logs:
            put_log_lines(
                GROUP, *self.lines, at=datetime.now(UTC), stream="2026/03/14/[$LATEST]abc", client=self.logs
            )
        reply = {
            "StatusCode": 200,
            "Payload": io.BytesIO(self.payload),
            "LogResult": base64.b64encode("\n".join(self.lines[-3:]).encode()).decode(),
            "ResponseMetadata": {"RequestId": self.response_request_id},
        }
        if self.error:
            reply["FunctionError"] = self.error
        return reply


class MixedClients:
    """moto for everything but Lambda, which is scripted; records how the Lambda client was asked for."""

    def __init__(self, real: Clients, lam: ScriptedLambda) -> None:
        self.real = real
        self.lam = lam
        self.lambda_retries: list[bool] = []

    def client(self, service: str, *, retries: bool = True) -> Any:
        if service == "lambda":
            self.lambda_retries.append(retries)
            return self.lam
        return self.real.client(service, retries=retries)


@pytest.fixture
def scripted(clients: Clients) -> tuple[MixedClients, ScriptedLambda]:
    body = {"statusCode": 302, "headers": {"Location": "http://site/300x200/a.jpg"}, "body": ""}
    line = json.dumps({"request_id": REQUEST_ID, "path": "/300x200/a.jpg", "status": 302})
    lam = ScriptedLambda(clients.client("logs"), json.dumps(body).encode(), tail_of(REQUEST_ID, line))
    return MixedClients(clients, lam), lam


def test_invoke_collects_payload_report_and_the_full_logs(scripted) -> None:
    mixed, lam = scripted

    found = invoke_op.invoke(mixed, FUNCTION, resize_event("300x200/a.jpg"), sleep=lambda s: None)

    assert mixed.lambda_retries == [False], "an invoke is never retried"
    call = lam.calls[0]
    assert call["FunctionName"] == FUNCTION and call["LogType"] == "Tail"
    assert call["InvocationType"] == "RequestResponse"
    assert json.loads(call["Payload"])["path"] == "/300x200/a.jpg"
    assert found.request_id == REQUEST_ID, "the runtime's request id, read from the log tail"
    assert found.function_error is None
    assert found.http.status == 302 and found.http.headers["Location"] == "http://site/300x200/a.jpg"
    assert [e.message for e in found.log] == lam.lines, "the whole request, not just the 4 KB tail"
    assert found.log[0].stream == "2026/03/14/[$LATEST]abc"
    assert found.log[1].json["status"] == 302
    assert found.report == Report(41.5, 42.0, 1024.0, 90.0, 300.25)
    assert "REPORT RequestId" in found.log_tail


@pytest.mark.parametrize(
    ("payload", "sent"),
    [
        ('{"a": 1}', b'{"a": 1}'),
        (b'{"a": 1}', b'{"a": 1}'),
        ({"a": [1, "é"]}, json.dumps({"a": [1, "é"]}).encode()),
        (b"", b""),
    ],
)
def test_invoke_sends_the_payload_as_given(scripted, payload: Any, sent: bytes) -> None:
    mixed, lam = scripted
    invoke_op.invoke(mixed, FUNCTION, payload, full_logs=False)
    assert lam.calls[0]["Payload"] == sent


@pytest.mark.parametrize("payload", ["{not json", b"\xff", "{'a': 1}"])
def test_invoke_refuses_a_payload_that_is_not_json_before_invoking(scripted, payload: Any) -> None:
    mixed, lam = scripted
    with pytest.raises(ConfigError) as raised:
        invoke_op.invoke(mixed, FUNCTION, payload)
    assert "not JSON" in raised.value.message
    assert lam.calls == []


def test_invoke_with_a_function_error_without_full_logs(scripted) -> None:
    mixed, lam = scripted
    lam.payload = json.dumps({"errorMessage": "it failed", "errorType": "RuntimeError"}).encode()
    lam.error = "Unhandled"
    lam.write_logs = False

    found = invoke_op.invoke(mixed, FUNCTION, {}, full_logs=False)

    assert found.function_error == "Unhandled"
    assert found.http is None and found.payload_json["errorType"] == "RuntimeError"
    assert found.request_id == REQUEST_ID
    assert found.report is not None and found.report.duration_ms == 41.5
    assert [e.message for e in found.log] == lam.lines[-3:], "the tail's lines when logs are not fetched"


def test_invoke_without_a_request_line_in_the_tail_uses_the_response_id(scripted) -> None:
    mixed, lam = scripted
    lam.lines = ["something else entirely"]
    lam.write_logs = False
    found = invoke_op.invoke(mixed, FUNCTION, {}, full_logs=False)
    assert found.request_id == "from-the-response-metadata"
    assert found.report is None
    assert [e.message for e in found.log] == ["something else entirely"]


def test_request_id_from_a_tail() -> None:
    tail = "\n".join(["INIT_START Runtime Version: python:3.12", *tail_of(REQUEST_ID)])
    assert invoke_op._request_id_from(tail) == REQUEST_ID
    assert invoke_op._request_id_from("") == ""
    assert isinstance(LogEvent(datetime.now(UTC), tail_of(REQUEST_ID)[0]).request_marker, tuple)


# --- target_function ------------------------------------------------------------------------------


def create_stack(clients: Clients, name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    clients.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_target_function_from_the_outputs(clients: Clients) -> None:
    create_stack(clients, "with-group", {"FunctionName": "f1", "LogGroupName": "/custom/group"})
    create_stack(clients, "without-group", {"FunctionName": "f2"})
    create_stack(clients, "no-function", {"Other": "x"})

    assert invoke_op.target_function(clients, "with-group") == ("f1", "/custom/group")
    assert invoke_op.target_function(clients, "without-group") == ("f2", "/aws/lambda/f2")
    with pytest.raises(ConfigError, match="no FunctionName output"):
        invoke_op.target_function(clients, "no-function")
    with pytest.raises(StackNotFound):
        invoke_op.target_function(clients, "nothing")
