"""Error responses in each AWS protocol's shape: S3 XML, query-protocol XML, JSON; with request ids.

``for_request`` picks the shape a client of that endpoint expects, so an SDK turns the answer
into its usual exception (and retries a 500/503) instead of failing to parse an HTML page.
"""

import json
import re
import uuid
from html import escape
from typing import Any
from urllib.parse import unquote

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_JSON_SERVICES = {"lambda", "apigateway", "logs", "execute-api"}


def request_id() -> str:
    return uuid.uuid4().hex[:16].upper()


def service_of(environ: dict) -> str:
    """The AWS service a signed request is for (its SigV4 credential scope), '' when unsigned."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not found:
        found = _SCOPE.search("Credential=" + unquote(_query_value(environ, "X-Amz-Credential")))
    return found.group(1) if found else ""


def _query_value(environ: dict, name: str) -> str:
    for part in environ.get("QUERY_STRING", "").split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return ""


def s3_error(status: int, code: str, message: str, *, resource: str = "", rid: str = "") -> tuple:
    rid = rid or request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        + (f"<Resource>{escape(resource)}</Resource>" if resource else "")
        + f"<RequestId>{rid}</RequestId></Error>"
    ).encode()
    return status, [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], body


def json_error(status: int, code: str, message: str, *, rid: str = "") -> tuple:
    rid = rid or request_id()
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code)]
    return status, headers, body


def query_error(status: int, code: str, message: str, *, rid: str = "") -> tuple:
    rid = rid or request_id()
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body


def for_request(environ: dict, status: int, code: str, message: str) -> tuple:
    """(status, headers, body) of an error in the shape this request's client expects."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/_aws/execute-api/"):
        return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
    service = service_of(environ)
    if service == "s3" or path.startswith("/_aws/s3-website/"):
        return s3_error(status, code, message)
    content_type = environ.get("CONTENT_TYPE", "")
    if service in _JSON_SERVICES or "json" in content_type or environ.get("HTTP_X_AMZ_TARGET"):
        return json_error(status, code, message)
    return query_error(status, code, message)


def internal(environ: dict, message: str) -> tuple:
    """A 500 as the request's service answers one (S3 InternalError, elsewhere InternalFailure)."""
    s3 = service_of(environ) == "s3" or environ.get("PATH_INFO", "").startswith("/_aws/s3-website/")
    return for_request(environ, 500, "InternalError" if s3 else "InternalFailure", message)


def send(start_response: Any, answer: tuple, *, close: bool = False, exc_info: Any = None) -> list[bytes]:
    status, headers, body = answer
    headers = [*headers, ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers, exc_info)
    return [body]


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
