"""API Gateway access logs in the local cloud: one line per API request, in the stage's log group.

A stage with ``accessLogSettings`` (AWS::ApiGateway::Stage ``AccessLogSetting``) gets, for every
request the front door answers on it (throttled ones included), its ``format`` with each
``$context.name`` replaced by the request's value - "-" when it has none, unescaped, as API Gateway
does - written to the log group that ``destinationArn`` names. API Gateway drops the line when the
group is gone; so does this.
"""

import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")
_GROUP = re.compile(r"^arn:[^:]+:logs:(?P<region>[^:]+):(?P<account>[0-9]+):log-group:(?P<name>[^:]+)(:\*)?$")
_STREAM = uuid.uuid4().hex  # one stream per local cloud process, as API Gateway writes per host
_lock = threading.Lock()


def destination(arn: str) -> tuple[str, str] | None:
    """(region, group name) of a CloudWatch Logs log group ARN (with or without ':*'), or None."""
    found = _GROUP.match(arn or "")
    return (found.group("region"), found.group("name")) if found else None


def line(template: str, context: dict[str, Any]) -> str:
    """The access log line: the format with every $context variable substituted."""
    return _VARIABLE.sub(lambda m: _text(context.get(m.group(1))), template)


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def write(account_id: str, request: Any, raw: str, response: Any, started: float | None = None) -> None:
    """Log the request on its stage, when the stage has access logging (otherwise nothing)."""
    from moto.apigateway.models import apigateway_backends

    api_id, _, rest = raw.partition("/")
    stage_name, _, path = rest.partition("/")
    for backend in apigateway_backends[account_id].values():
        api = backend.apis.get(api_id)
        if api is None:
            continue
        stage = api.stages.get(unquote(stage_name))
        settings = getattr(stage, "access_log_settings", None) or {}
        where = destination(str(settings.get("destinationArn", "")))
        if not settings.get("format") or where is None:
            return
        now = datetime.now(UTC)
        body = response.get_data() if not response.is_streamed else b""
        context = {
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": uuid.uuid4().hex[:16],
            "apiId": api_id,
            "stage": unquote(stage_name),
            "identity.sourceIp": request.remote_addr,
            "identity.userAgent": request.headers.get("User-Agent"),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "httpMethod": request.method,
            "path": f"/{unquote(stage_name)}/{unquote(path)}",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "status": response.status_code,
            "responseLength": len(body),
            "responseLatency": round((time.monotonic() - started) * 1000) if started else None,
            "error.message": _error_message(response, body),
        }
        _append(account_id, where, line(str(settings["format"]), context))
        return


def _error_message(response: Any, body: bytes) -> str | None:
    """API Gateway's own error message ($context.error.message) for the errors it answers itself."""
    import json

    if response.status_code < 400 or response.headers.get("Content-Type") != "application/json":
        return None
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return found.get("message") if isinstance(found, dict) and set(found) == {"message"} else None


def _append(account_id: str, where: tuple[str, str], text: str) -> None:
    from moto.logs.models import logs_backends

    from localcloud import persistence

    region, group = where
    logs = logs_backends[account_id][region]
    with _lock:
        if group not in logs.groups:
            return
        if _STREAM not in logs.groups[group].streams:
            logs.create_log_stream(group, _STREAM)
        logs.put_log_events(group, _STREAM, [{"timestamp": int(time.time() * 1000), "message": text}])
    persistence.touch()  # the next periodic snapshot keeps it
