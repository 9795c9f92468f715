"""The Lambda entry point: API Gateway proxy event (payload v1 or v2) in, HTTP response out.

A request for ``/{size}[,{options}]/{key}`` reads the original from BUCKET, resizes it, stores
the result under exactly the requested path and redirects to it at PUBLIC_URL (DELIVERY=website),
or answers the image itself for the CDN to cache (DELIVERY=cdn: a 307 to the same CDN URL when
over Lambda's response limit), so the next request for that URL is a plain object hit. Each
request writes one JSON log line that is also a CloudWatch Embedded Metric Format record
(namespace ``Resizer``).
"""

import base64
import functools
import json
import os
import sys
import time
import traceback
from urllib.parse import unquote, urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from resizer_function import imaging, signing, signing_key
from resizer_function.errors import RequestRefused
from resizer_function.request import ResizeRequest, non_canonical, parse_path
from resizer_function.settings import Settings

IMMUTABLE = "public, max-age=31536000, immutable"
ERROR_CACHE = "public, max-age=60"
INLINE_LIMIT = 6 * 1024 * 1024 - 16 * 1024  # Lambda's response limit, less room for headers
# Every stored output carries this tag: the bucket's lifecycle rule (DerivedExpirationDays) expires
# only tagged objects. A PutObject with tags needs s3:PutObjectTagging too.
DERIVED_TAGGING = urlencode({"resizer:derived": "1"})


@functools.cache
def s3_client():
    """One S3 client per container, from the default chain; honours AWS_ENDPOINT_URL."""
    return boto3.client("s3", config=Config(retries={"mode": "standard"}))


def handler(event: dict, context) -> dict:
    started = time.perf_counter()
    record: dict = {"request_id": getattr(context, "aws_request_id", None), "ms": {}}
    try:
        event = _mapping(event)
        context_http = _mapping(_mapping(event.get("requestContext")).get("http"))
        method = event.get("httpMethod") or context_http.get("method")
        if method not in ("GET", "HEAD", None):
            raise RequestRefused(405, "method_not_allowed", f"{method} is not allowed; use GET")
        path = request_path(event)
        record["path"] = path
        settings = Settings.from_env()
        request = parse_path(path)
        authorise(request, settings, _mapping(event.get("queryStringParameters")))
        response = resize(request, settings, record)
    except RequestRefused as refusal:
        response = error_response(refusal)
        record["error"] = refusal.code
    except Exception as exc:  # a real bug or a misconfiguration: logged, never shown
        response = error_response(RequestRefused(500, "internal_error", "internal error"))
        record.update(error="internal_error", exception=repr(exc), traceback=traceback.format_exc())
    record["status"] = response["statusCode"]
    record["ms"]["total"] = round((time.perf_counter() - started) * 1000, 2)
    log(record)
    return response


def request_path(event: dict) -> str:
    """The decoded request path, whichever payload version and however the API is mounted."""
    proxy = _mapping(event.get("pathParameters")).get("proxy")
    if proxy and isinstance(proxy, str):
        return "/" + proxy  # API Gateway has decoded it already (v1 and v2)
    if event.get("version") == "2.0":
        path, stage = _text(event.get("rawPath")) or "/", _mapping(event.get("requestContext")).get("stage")
        if stage and stage != "$default" and path.startswith(f"/{stage}/"):
            path = path[len(stage) + 1 :]
        return path  # HTTP APIs deliver rawPath decoded
    try:
        return unquote(_text(event.get("path")) or "/", errors="strict")
    except UnicodeDecodeError:
        raise RequestRefused(400, "invalid_path", "the path is not valid UTF-8") from None


def authorise(request: ResizeRequest, settings: Settings, query: dict[str, str]) -> None:
    """Refuse sizes outside the policy (403) and, when signing is on, bad signatures (403)."""
    if settings.allowed_sizes:
        if (request.width, request.height) not in settings.allowed_sizes:
            raise RequestRefused(403, "size_not_allowed", f"size {request.size} is not allowed")
    elif max(request.width or 0, request.height or 0) > settings.max_dimension:
        raise RequestRefused(
            403, "size_not_allowed", f"size {request.size} is over the {settings.max_dimension} limit"
        )
    if settings.signing_key_parameter:
        key = signing_key.load(settings.signing_key_parameter, settings.signing_key_version)
        signing.verify(request.path, key, query)


def resize(request: ResizeRequest, settings: Settings, record: dict) -> dict:
    """Fetch the original, render it, store it under the request's path, answer."""
    timer = time.perf_counter()
    body, etag = fetch(request.key, settings)
    record["source_bytes"] = len(body)
    record["ms"]["fetch"] = _since(timer)
    if request.depends_on_source:  # a default spelled out can only be seen with the original at hand
        canonical = request.for_source(imaging.default_format(body, settings.max_source_pixels))
        if canonical != request:
            raise non_canonical(canonical)
    rendered = imaging.render(body, request, settings.max_source_pixels, settings.max_dimension)
    record["source_pixels"] = rendered.source_pixels
    record["output_bytes"] = len(rendered.body)
    record["ms"].update({k: round(v, 2) for k, v in rendered.timings.items()})
    timer = time.perf_counter()
    stored = store(request, rendered, etag, settings)
    record["ms"]["store"] = _since(timer)
    if not stored:
        record["store_conflict"] = True
    cdn = settings.delivery == "cdn"
    inline = not stored or cdn or settings.response_mode == "inline" or not settings.public_url
    encoded = base64.b64encode(rendered.body).decode() if inline else ""
    if inline and len(encoded) <= INLINE_LIMIT:
        headers = {"Content-Type": rendered.content_type, "Cache-Control": IMMUTABLE}
        return {"statusCode": 200, "headers": headers, "body": encoded, "isBase64Encoded": True}
    if not stored:
        raise RequestRefused(503, "store_conflict", "a concurrent write raced this one; try again")
    if not settings.public_url:
        raise RequestRefused(413, "output_too_large", "the output is over Lambda's response limit")
    location = settings.public_url + request.url_path
    headers = {"Location": location, "Cache-Control": "no-store"}
    # cdn: the stored object is at the same CDN URL; 307 keeps the method and is never cached.
    return {"statusCode": 307 if cdn else settings.redirect_status, "headers": headers, "body": ""}


def fetch(key: str, settings: Settings) -> tuple[bytes, str]:
    """The original's bytes and ETag; 404 if missing, 413 if over MAX_SOURCE_BYTES."""
    try:
        obj = s3_client().get_object(Bucket=settings.bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise RequestRefused(404, "not_found", f"no original named {key!r}") from None
        raise
    if obj["ContentLength"] > settings.max_source_bytes:
        obj["Body"].close()
        raise RequestRefused(
            413,
            "source_too_large",
            f"the original is {obj['ContentLength']} bytes, over {settings.max_source_bytes}",
        )
    return obj["Body"].read(), obj["ETag"].strip('"')


def store(request: ResizeRequest, rendered: imaging.Rendered, etag: str, settings: Settings) -> bool:
    """Write the result at the request's path unless something is there already (never overwrite);
    False when S3 twice answered 409 ConditionalRequestConflict (a write raced ours: retry, says
    AWS), so the object may not exist and the caller must not point the client at it."""
    for _attempt in range(2):
        try:
            s3_client().put_object(
                Bucket=settings.bucket,
                Key=request.path[1:],
                Body=rendered.body,
                ContentType=rendered.content_type,
                CacheControl=IMMUTABLE,
                Metadata={"source-etag": etag, "resizer-spec": request.spec},
                Tagging=DERIVED_TAGGING,
                IfNoneMatch="*",
            )
            return True
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "PreconditionFailed":  # stored already (by a concurrent request): never overwritten
                return True
            if code != "ConditionalRequestConflict":
                raise
    return False


def error_response(refusal: RequestRefused) -> dict:
    body = {"error": refusal.code, "message": refusal.message, **refusal.extra}
    headers = {"Content-Type": "application/json", "Cache-Control": ERROR_CACHE}
    if refusal.status >= 500:
        headers["Cache-Control"] = "no-store"
    if refusal.status == 405:
        headers["Allow"] = "GET, HEAD"
    if refusal.status == 503:
        headers["Retry-After"] = "1"
    return {"statusCode": refusal.status, "headers": headers, "body": json.dumps(body)}


def log(record: dict) -> None:
    """Write the request's one log line; its ``_aws`` key makes it an Embedded Metric Format record."""
    ms = record["ms"]
    stages = [ms[k] for k in ("decode", "resize", "encode") if k in ms]
    values = {
        "TotalMs": ms["total"],
        "ResizeMs": round(sum(stages), 2) if stages else None,
        "SourceBytes": record.get("source_bytes"),
        "OutputBytes": record.get("output_bytes"),
    }
    metrics = {name: value for name, value in values.items() if value is not None}
    line = {"level": "INFO", "message": "request", **record, **metrics}
    line["FunctionName"] = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    directives = [_directive(["FunctionName"], metrics)]
    if "error" in record:
        line.update(level="ERROR" if record["status"] >= 500 else "WARN", Errors=1, ErrorCode=record["error"])
        directives.append(_directive(["FunctionName", "ErrorCode"], {"Errors": 1}))
    line["_aws"] = {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives}
    sys.stdout.write(json.dumps(line, default=str) + "\n")
    sys.stdout.flush()


def _directive(dimensions: list[str], metrics: dict) -> dict:
    units = {"TotalMs": "Milliseconds", "ResizeMs": "Milliseconds", "Errors": "Count"}
    described = [{"Name": name, "Unit": units.get(name, "Bytes")} for name in metrics]
    return {"Namespace": "Resizer", "Dimensions": [dimensions], "Metrics": described}


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
