"""Invoke: run the function once (never retried: a retry would run it twice) and collect what
Lambda says about it: payload, function error, the REPORT figures and that request's full logs.

``resize_event`` builds the API Gateway (REST, payload v1) event a browser's request becomes,
so ``invoke(..., resize_event("300x200/photo.jpg"))`` is exactly what the front door does.
"""

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from operations import functions, logs, stack
from operations.aws import Clients, translated
from operations.errors import ConfigError


@dataclass
class HttpResponse:
    """The function's API Gateway proxy response, decoded."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")


@dataclass
class InvokeResult:
    request_id: str
    function_error: str | None
    payload: bytes
    report: logs.Report | None
    log: list[logs.LogEvent] = field(default_factory=list)
    log_tail: str = ""

    @property
    def payload_json(self) -> Any:
        try:
            return json.loads(self.payload)
        except ValueError:
            return None

    @property
    def http(self) -> HttpResponse | None:
        """The proxy response inside the payload, when the function answered an API event."""
        value = self.payload_json
        if not isinstance(value, dict) or "statusCode" not in value:
            return None
        body = value.get("body") or ""
        data = base64.b64decode(body) if value.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (value.get("headers") or {}).items()}
        return HttpResponse(int(value["statusCode"]), headers, data)


def resize_event(path: str, *, query: dict[str, str] | None = None, stage: str = "prod") -> dict:
    """The REST API proxy event for GET /{path} (e.g. '300x200/photo.jpg'), as API Gateway sends it."""
    decoded = "/" + unquote(path.strip().lstrip("/"))
    if decoded == "/":
        raise ConfigError("give a path like 300x200/photo.jpg")
    raw = quote(decoded, safe="/,~!$&'()*;=:@")
    now = datetime.now(UTC)
    return {
        "resource": "/{proxy+}",
        "path": raw,
        "httpMethod": "GET",
        "headers": {"Accept": "*/*", "User-Agent": "resizer-cli"},
        "multiValueHeaders": {"Accept": ["*/*"], "User-Agent": ["resizer-cli"]},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": decoded[1:]},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/{stage}{raw}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "resizer-cli"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@translated
def target_function(clients: Clients, stack_name: str) -> tuple[str, str]:
    """(function name, log group) from the stack's outputs."""
    outputs = stack.outputs(stack.require(clients.client("cloudformation"), stack_name))
    function = outputs.get("FunctionName")
    if not function:
        raise ConfigError(f"stack {stack_name} has no FunctionName output")
    return function, outputs.get("LogGroupName") or functions.log_group(function)


@translated
def invoke(
    clients: Clients,
    function: str,
    payload: bytes | str | dict,
    *,
    log_group: str | None = None,
    full_logs: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> InvokeResult:
    """Invoke once, synchronously, with retries off; fetch the request's complete logs."""
    body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    body = body.encode() if isinstance(body, str) else body
    try:
        json.loads(body or b"{}")
    except ValueError as exc:
        raise ConfigError(f"the payload is not JSON: {exc}") from None
    started = datetime.now(UTC) - timedelta(seconds=5)
    reply = clients.client("lambda", retries=False).invoke(
        FunctionName=function, Payload=body, LogType="Tail", InvocationType="RequestResponse"
    )
    tail = base64.b64decode(reply.get("LogResult", "") or "").decode("utf-8", "replace")
    request_id = reply["ResponseMetadata"].get("RequestId", "")
    request_id = _request_id_from(tail) or request_id
    result = InvokeResult(
        request_id=request_id,
        function_error=reply.get("FunctionError"),
        payload=reply["Payload"].read(),
        report=next(
            (logs.Report.parse(line) for line in tail.splitlines() if line.startswith("REPORT")), None
        ),
        log_tail=tail,
    )
    if full_logs and request_id:
        found = logs.request_log(
            clients, log_group or functions.log_group(function), request_id, since=started, sleep=sleep
        )
        if found is not None:
            result.log = found.events
            result.report = found.report or result.report
    if not result.log and tail:
        now = datetime.now(UTC)
        result.log = [logs.LogEvent(now, line) for line in tail.splitlines() if line]
    return result


def _request_id_from(tail: str) -> str:
    for line in tail.splitlines():
        event = logs.LogEvent(datetime.now(UTC), line)
        if event.request_marker:
            return event.request_marker[1]
    return ""
