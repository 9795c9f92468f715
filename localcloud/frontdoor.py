"""The local cloud's front door: the S3 website endpoint and API Gateway stages, over plain HTTP.

moto stores buckets, website configurations, REST APIs and functions but serves none of them to
a browser. Here, on the local cloud's own port:

    /_aws/s3-website/{bucket}/{key}         is  http://{bucket}.s3-website-{region}.amazonaws.com/{key}
    /_aws/execute-api/{api}/{stage}/{path}  is  https://{api}.execute-api.{region}.amazonaws.com/{stage}/{path}

The website serves objects with their stored Content-Type and Cache-Control when the bucket
policy makes them public, and applies the bucket's routing rules to errors (so a missing size is
redirected to the API). The API stage finds the resource and method, builds a REST (payload v1)
proxy event, runs the integration's Lambda function through the local runtime, and maps its
response back, decoding base64 bodies for binary media types.
"""

import base64
import fnmatch
import functools
import json
import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from moto.core import DEFAULT_ACCOUNT_ID
from werkzeug.wrappers import Request, Response

from localcloud import api_access_log, api_throttle, http_conditions, s3_access

WEBSITE_PREFIX = "/_aws/s3-website/"
API_PREFIX = "/_aws/execute-api/"
INTEGRATION_TIMEOUT_S = 29.0
_LAMBDA_URI = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")


class FrontDoor:
    """A WSGI app for the two prefixes above; ``invoke`` runs a function by ARN."""

    def __init__(
        self,
        rewrite: Callable[[str], str],
        invoke: Callable[[Any, str], Any],
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.rewrite = rewrite
        self.invoke = invoke
        self.account_id = account_id

    def handles(self, path: str) -> bool:
        return path.startswith((WEBSITE_PREFIX, API_PREFIX))

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        raw_path = environ.get("RAW_URI", environ.get("REQUEST_URI", "")).split("?")[0] or quote(request.path)
        if request.path.startswith(WEBSITE_PREFIX):
            response = self.website(request, raw_path[len(WEBSITE_PREFIX) :])
        else:
            response = self.api(request, raw_path[len(API_PREFIX) :])
        return response(environ, start_response)

    # -- S3 website ---------------------------------------------------------------------------

    def website(self, request: Request, raw: str) -> Response:
        from moto.s3.models import s3_backends

        bucket_name, _, raw_key = raw.partition("/")
        backend = s3_backends[self.account_id]["aws"]
        bucket = backend.buckets.get(bucket_name)
        if bucket is None:
            return _s3_error(404, "NoSuchBucket", "The specified bucket does not exist", bucket_name)
        if not bucket.website_configuration:
            return _s3_error(404, "NoSuchWebsiteConfiguration", "The bucket has no website configuration")
        config = _valid_config(bucket.website_configuration)
        if config is None:  # stored before PUT validated it: never a 500
            return _s3_error(404, "NoSuchWebsiteConfiguration", "The website configuration is not valid")
        key = unquote(raw_key)
        if key == "" or key.endswith("/"):
            key += config["index"]
        if request.method not in ("GET", "HEAD"):
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        if not _public_read(bucket, key):
            return self._routed(config, key, 403) or _s3_error(403, "AccessDenied", "Access Denied")
        found = bucket.keys.get(key)
        if found is None:
            return self._routed(config, key, 404) or _s3_error(
                404, "NoSuchKey", "The specified key does not exist.", key
            )
        headers = dict(s3_access.object_headers(found))
        return http_conditions.respond(request, headers, found, _s3_error)  # Range, If-*

    def website_hit(self, method: str, raw: str) -> tuple[int, list[tuple[str, str]], bytes, int] | None:
        """What ``website`` answers an unconditional GET/HEAD of a public object (status, headers,
        body, length), without a werkzeug Request/Response; None for every other answer."""
        from moto.s3.models import s3_backends

        bucket_name, _, raw_key = raw.partition("/")
        bucket = s3_backends[self.account_id]["aws"].buckets.get(bucket_name)
        if bucket is None or not bucket.website_configuration:
            return None
        config = _valid_config(bucket.website_configuration)
        if config is None:
            return None
        key = unquote(raw_key)
        if key == "" or key.endswith("/"):
            key += config["index"]
        found = bucket.keys.get(key)
        if found is None or not _public_read(bucket, key):
            return None
        headers = s3_access.object_headers(found)
        if not any(name == "Content-Type" for name, _ in headers):
            return None  # werkzeug's default type on the full path
        headers.append(("Accept-Ranges", "bytes"))
        return 200, headers, b"" if method == "HEAD" else found.value, found.size

    def _routed(self, config: dict, key: str, status: int) -> Response | None:
        for rule in config["rules"]:
            condition = rule.get("condition", {})
            prefix, code = condition.get("KeyPrefixEquals"), condition.get("HttpErrorCodeReturnedEquals")
            if prefix is not None and not key.startswith(prefix):
                continue
            if code is not None and code != str(status):
                continue
            if prefix is None and code is None:
                continue
            redirect = rule["redirect"]
            new_key = key
            if "ReplaceKeyWith" in redirect:
                new_key = redirect["ReplaceKeyWith"]
            elif "ReplaceKeyPrefixWith" in redirect:
                new_key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix or "") :]
            host = redirect.get("HostName", "")
            protocol = redirect.get("Protocol", "http")
            location = f"{protocol}://{host}/{quote(new_key)}" if host else f"/{quote(new_key)}"
            status_code = int(redirect.get("HttpRedirectCode", "301"))
            return Response(status=status_code, headers={"Location": self.rewrite(location)})
        return None

    # -- API Gateway REST API ----------------------------------------------------------------

    def api(self, request: Request, raw: str) -> Response:
        started = time.monotonic()
        response = self._api(request, raw)
        api_access_log.write(self.account_id, request, raw, response, started)  # the stage's access log
        return response

    def _api(self, request: Request, raw: str) -> Response:
        api_id, _, rest = raw.partition("/")
        stage_name, _, raw_path = rest.partition("/")
        found = self._rest_api(api_id)
        if found is None:
            return _api_error(403, "Forbidden")
        region, api = found
        if unquote(stage_name) not in api.stages:
            return _api_error(403, "Forbidden")
        path = "/" + raw_path
        match = _resource_for(api, unquote(path))
        if match is None:
            return _api_error(403, "Missing Authentication Token")
        resource, path_parameters = match
        method = resource.resource_methods.get(request.method) or resource.resource_methods.get("ANY")
        if method is None:
            return _api_error(403, "Missing Authentication Token")
        if not api_throttle.admit(api, unquote(stage_name), resource.get_path(), request.method):
            return _api_error(429, "Too Many Requests")
        integration = method.method_integration
        arn = _LAMBDA_URI.match(integration.uri or "") if integration else None
        if integration is None or integration.integration_type != "AWS_PROXY" or arn is None:
            return _api_error(500, "Internal server error")  # only Lambda proxy integrations locally
        event = self._event(request, api, region, stage_name, resource, path, path_parameters)
        started = time.monotonic()
        try:
            outcome = self.invoke(arn.group("arn"), json.dumps(event))
        except LookupError:
            return _api_error(500, "Internal server error")
        if outcome is None:
            return _api_error(429, "Too Many Requests")
        if time.monotonic() - started > INTEGRATION_TIMEOUT_S:
            return _api_error(504, "Endpoint request timed out")
        if outcome.function_error:
            return _api_error(502, "Internal server error")
        return _proxy_response(outcome.payload, api.binaryMediaTypes, request.headers.get("Accept", ""))

    def _rest_api(self, api_id: str) -> tuple[str, Any] | None:
        from moto.apigateway.models import apigateway_backends

        for region, backend in apigateway_backends[self.account_id].items():
            if api_id in backend.apis:
                return region, backend.apis[api_id]
        return None

    def _event(self, request, api, region, stage, resource, path, path_parameters) -> dict:
        query = request.args
        headers = dict(request.headers)
        body = request.get_data()
        binary = bool(body) and _is_binary(request.headers.get("Content-Type", ""), api.binaryMediaTypes)
        now = datetime.now(UTC)
        return {
            "resource": resource.get_path(),
            "path": path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": {k: request.headers.getlist(k) for k in headers} or None,
            "queryStringParameters": {k: query[k] for k in query} or None,
            "multiValueQueryStringParameters": {k: query.getlist(k) for k in query} or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": resource.id,
                "resourcePath": resource.get_path(),
                "httpMethod": request.method,
                "extendedRequestId": uuid.uuid4().hex[:16],
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{stage}{path}",
                "accountId": self.account_id,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": stage,
                "domainPrefix": api.id,
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": request.remote_addr, "userAgent": request.headers.get("User-Agent")},
                "domainName": f"{api.id}.execute-api.{region}.amazonaws.com",
                "apiId": api.id,
            },
            "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace")) or None,
            "isBase64Encoded": binary,
        }


def _resource_for(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    """The resource whose path template matches: exact parts first, then {param}, then {proxy+}."""
    best: tuple[int, Any, dict[str, str]] | None = None
    segments = [s for s in path.split("/") if s] if path != "/" else []
    for resource in api.resources.values():
        template = [s for s in resource.get_path().split("/") if s]
        params: dict[str, str] = {}
        score = _match(template, segments, params)
        if score is not None and (best is None or score > best[0]):
            best = (score, resource, params)
    return (best[1], best[2]) if best else None


def _match(template: list[str], segments: list[str], params: dict[str, str]) -> int | None:
    score = 0
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(segments):
                return None
            params[part[1:-2]] = "/".join(segments[index:])
            return score
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[index]
            score += 1
        elif part == segments[index]:
            score += 2
        else:
            return None
    return score if len(template) == len(segments) else None


def _proxy_response(payload: bytes, binary_types: list[str], accept: str) -> Response:
    try:
        result = json.loads(payload)
        status = int(result["statusCode"])
    except (ValueError, KeyError, TypeError):
        return _api_error(502, "Internal server error")
    headers = dict(result.get("headers") or {})
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        content_type = headers.get("Content-Type") or headers.get("content-type") or ""
        if _is_binary(content_type, binary_types) or _is_binary(accept, binary_types):
            body = base64.b64decode(body)
    response = Response(body, status=status)
    for name, value in headers.items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    return response


def _is_binary(content_type: str, binary_types: list[str]) -> bool:
    kinds = [part.split(";")[0].strip() for part in content_type.split(",") if part.strip()]
    patterns = [t.replace("~1", "/") for t in binary_types or []]
    return any(fnmatch.fnmatch(kind, pattern) for kind in kinds for pattern in patterns)


def _api_error(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, content_type="application/json")


def _s3_error(status: int, code: str, message: str, resource: str = "") -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        f"<html><head><title>{status} {code}</title></head><body><h1>{status} {code}</h1><ul>"
        f"<li>Code: {code}</li><li>Message: {message}</li>"
        + (f"<li>Key: {resource}</li>" if resource else "")
        + f"<li>RequestId: {request_id}</li></ul></body></html>"
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _valid_config(xml: bytes | str) -> dict | None:
    """The parsed configuration (read-only: shared between requests), None when it is not valid."""
    try:
        return _parsed_config(xml) if isinstance(xml, (bytes, str)) else _website_config(xml)
    except (ET.ParseError, TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=128)
def _parsed_config(xml: bytes | str) -> dict:
    return _website_config(xml)


def _website_config(xml: bytes | str) -> dict:
    """Index document and routing rules from the stored WebsiteConfiguration XML."""
    root = ET.fromstring(xml)

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def children(node: ET.Element) -> dict[str, ET.Element]:
        return {local(child.tag): child for child in node}

    top = children(root)
    index = "index.html"
    if "IndexDocument" in top:
        suffix = children(top["IndexDocument"]).get("Suffix")
        index = suffix.text if suffix is not None and suffix.text else index
    rules = []
    for rule in top.get("RoutingRules", []):
        parts = children(rule)
        condition = {local(c.tag): (c.text or "") for c in parts.get("Condition", [])}
        redirect = {local(c.tag): (c.text or "") for c in parts.get("Redirect", [])}
        rules.append({"condition": condition, "redirect": redirect})
    return {"index": index, "rules": rules}


def _public_read(bucket: Any, key: str) -> bool:
    """Whether anyone may s3:GetObject key: the website serves only what the bucket policy makes
    public, decided as the S3 REST API decides it (an explicit Deny, conditions, a grant on a
    prefix, Block Public Access's RestrictPublicBuckets)."""
    return s3_access.allowed(bucket, s3_access.Reader(), "s3:GetObject", f"arn:aws:s3:::{bucket.name}/{key}")
