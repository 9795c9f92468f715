"""The local CloudFront: a distribution served at a loopback URL, with its origins, cache and invalidations.

    /_aws/cloudfront/{distribution-id}/{path}   is   https://{id}.cloudfront.net/{path}

(path-based like the website, so it works in any browser, curl and urllib without DNS). Each
request follows the distribution as moto stores it (localcloud.cfn_resources.cloudfront makes it from the
template):

- the default cache behaviour: allowed methods (others: 403), the cache policy's key (the path,
  plus the query strings it names; headers and cookies are not modelled) and TTLs;
- a cache that honours the origin's Cache-Control (``s-maxage`` before ``max-age``; ``no-store``,
  ``no-cache`` and ``private`` are not cached when MinTTL is 0), clamped to [MinTTL, MaxTTL],
  DefaultTTL without one; errors (4xx/5xx) without max-age cached for 10 s, CloudFront's error
  caching minimum TTL. Answers carry ``X-Cache`` (``Hit``/``Miss``/``Error from cloudfront``),
  ``Age`` on hits, ``Via`` and ``X-Amz-Cf-Id``;
- concurrent misses for one cache key are collapsed into one origin request, as CloudFront does;
- an origin group fails over to its second member when the first answers one of the group's
  status codes, for GET, HEAD and OPTIONS only;
- an S3 REST origin (``{bucket}.s3.{region}.amazonaws.com``) answers as S3 answers the reader:
  the distribution itself (``cloudfront.amazonaws.com`` with this distribution's ARN as
  ``AWS:SourceArn``) when the origin has an Origin Access Control, else anonymous
  (localcloud.s3_access); an API Gateway origin (``{api}.execute-api.{region}.amazonaws.com``,
  OriginPath the stage) runs the stage through the front door, and refuses (403) a viewer Host
  that the origin request policy would forward;
- CreateInvalidation (moto's API, patched by ``install``) evicts the cached objects whose path
  matches (``/*``, ``/300x200/*``, exact paths; every query string of a path).

Locally the viewer protocol is plain HTTP: ``redirect-to-https`` cannot be honoured without a
certificate, and the custom domain (aliases) is reachable only through this path.
"""

import base64
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from moto.core import DEFAULT_ACCOUNT_ID
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from localcloud import patching, s3_access
from localcloud.cfn_resources import cloudfront as cfn_cloudfront

PREFIX = "/_aws/cloudfront/"
FAILOVER_METHODS = ("GET", "HEAD", "OPTIONS")
ERROR_CACHING_MIN_TTL = 10
CACHE_BYTES = 256 << 20
_S3_ORIGIN = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_API_ORIGIN = re.compile(r"^(?P<api>[A-Za-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_CACHEABLE = {200, 203, 206, 300, 301, 400, 403, 404, 405, 410, 414, 416, 500, 501, 502, 503, 504}
_patches = patching.Patches("cloudfront cache invalidation")


@dataclass
class Entry:
    """A cached answer: status, headers, body, when it was stored and for how long it is fresh."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored: float
    ttl: float
    path: str

    def fresh(self, now: float) -> bool:
        return now - self.stored < self.ttl


@dataclass
class Origin:
    """An origin's answer before caching."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Cache:
    """Every distribution's cached objects (LRU, bounded in bytes) and its in-flight origin fetches."""

    limit: int = CACHE_BYTES
    entries: "OrderedDict[tuple, Entry]" = field(default_factory=OrderedDict)
    inflight: dict[tuple, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    size: int = 0
    origin_fetches: int = 0

    def get(self, key: tuple, now: float) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if not entry.fresh(now):
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = entry
            self.size += len(entry.body)
            while self.size > self.limit and self.entries:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: tuple) -> None:
        entry = self.entries.pop(key)
        self.size -= len(entry.body)

    def invalidate(self, distribution_id: str, paths: list[str]) -> int:
        """Evict the objects of the distribution whose path matches one of paths; how many."""
        patterns = [_invalidation_pattern(p) for p in paths]
        with self.lock:
            doomed = [
                k
                for k, e in self.entries.items()
                if k[0] == distribution_id and any(p(e.path) for p in patterns)
            ]
            for key in doomed:
                self._drop(key)
        return len(doomed)


def _invalidation_pattern(path: str) -> Callable[[str], bool]:
    """CloudFront's invalidation path: exact, or ending in ``*`` (a prefix); compared decoded."""
    wanted = unquote(path if path.startswith("/") else "/" + path)
    if wanted.endswith("*"):
        prefix = wanted[:-1]
        return lambda p: unquote(p).startswith(prefix)
    return lambda p: unquote(p) == wanted


class Cdn:
    """A WSGI app for ``/_aws/cloudfront/...``; ``api`` serves an API Gateway stage (the front door)."""

    def __init__(self, api: Callable[[Request, str], Response], account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.api = api
        self.account_id = account_id
        self.cache = Cache()
        self.clock: Callable[[], float] = time.time

    def handles(self, path: str) -> bool:
        return path.startswith(PREFIX)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        raw = environ.get("RAW_URI", environ.get("REQUEST_URI", "")).split("?")[0] or quote(request.path)
        distribution_id, _, raw_path = raw[len(PREFIX) :].partition("/")
        return self.serve(request, distribution_id, "/" + raw_path)(environ, start_response)

    # -- a viewer request -------------------------------------------------------------------

    def serve(self, request: Request, distribution_id: str, path: str) -> Response:
        cloudfront = cfn_cloudfront.backend(self.account_id)
        distribution = cloudfront.distributions.get(distribution_id)
        if distribution is None or not _enabled(distribution):
            return _refusal(403, "Bad request.", "The request could not be satisfied.")
        config = distribution.distribution_config
        behaviour = config.DefaultCacheBehavior
        if request.method not in behaviour.allowed_methods.items:
            return _refusal(
                403, "Bad request.", "This distribution is not configured to allow the HTTP request method"
            )
        policy = _policy(cloudfront, behaviour.cache_policy_id, "cache")
        query = _cache_query(policy, request.args)
        cacheable = request.method in behaviour.allowed_methods.cached_methods["Items"]
        key = (distribution_id, request.method, path, query)
        if not cacheable:
            return self._finish(self._fetch(distribution, request, path, query), "Miss", request)
        while True:
            entry = self.cache.get(key, self.clock())
            if entry is not None:
                return self._hit(entry, request)
            with self.cache.lock:
                waiting = self.cache.inflight.get(key)
                if waiting is None:
                    done = self.cache.inflight[key] = threading.Event()
            if waiting is not None:  # another request is fetching this key: wait for its result
                waiting.wait(60)
                entry = self.cache.get(key, self.clock())
                if entry is not None:
                    return self._hit(entry, request)
                continue  # not cacheable: this request goes to the origin itself
            try:
                answer = self._fetch(distribution, request, path, query)
                ttl = _ttl(answer, policy)
                if ttl > 0 and answer.status in _CACHEABLE:
                    body = answer.body
                    self.cache.put(key, Entry(answer.status, answer.headers, body, self.clock(), ttl, path))
            finally:
                with self.cache.lock:
                    self.cache.inflight.pop(key, None)
                done.set()
            return self._finish(answer, "Miss", request)

    def hit(self, method: str, distribution_id: str, path: str) -> tuple[int, list, bytes, int] | None:
        """What ``serve`` answers a GET/HEAD without a query string that the cache holds (status,
        headers, body, length), without a werkzeug Request/Response; None for every other answer."""
        distribution = cfn_cloudfront.backend(self.account_id).distributions.get(distribution_id)
        if distribution is None or not _enabled(distribution):
            return None
        methods = distribution.distribution_config.DefaultCacheBehavior.allowed_methods
        if method not in methods.items or method not in methods.cached_methods["Items"]:
            return None
        entry = self.cache.get((distribution_id, method, path, ()), self.clock())
        if entry is None:
            return None
        headers = _viewer_headers(entry.headers, entry.status, "Hit", self._age(entry))
        return entry.status, headers, b"" if method == "HEAD" else entry.body, len(entry.body)

    def _age(self, entry: Entry) -> str:
        return str(int(max(0, self.clock() - entry.stored)))

    def _hit(self, entry: Entry, request: Request) -> Response:
        return self._finish(Origin(entry.status, entry.headers, entry.body), "Hit", request, self._age(entry))

    def _finish(self, answer: Origin, outcome: str, request: Request, age: str = "") -> Response:
        body = b"" if request.method == "HEAD" else answer.body
        response = Response(body, status=answer.status)
        response.headers.clear()
        for name, value in _viewer_headers(answer.headers, answer.status, outcome, age):
            response.headers.add(name, value)
        response.headers["Content-Length"] = str(len(answer.body))
        response.direct_passthrough = request.method == "HEAD"
        return response

    # -- origins ----------------------------------------------------------------------------

    def _fetch(self, distribution: Any, request: Request, path: str, query: tuple) -> Origin:
        with self.cache.lock:
            self.cache.origin_fetches += 1
        config = distribution.distribution_config
        target = config.DefaultCacheBehavior.target_origin_id
        origins = {o.id: o for o in config.Origins["Items"]}
        group = next((g for g in (config.OriginGroups.get("Items") or []) if g.get("Id") == target), None)
        if group is None:
            return self._origin(distribution, origins.get(target), request, path, query)
        members = [m["OriginId"] for m in group["Members"]["Items"]]
        codes = {int(c) for c in group["FailoverCriteria"]["StatusCodes"]["Items"]}
        answer = self._origin(distribution, origins.get(members[0]), request, path, query)
        if answer.status in codes and request.method in FAILOVER_METHODS and len(members) > 1:
            answer = self._origin(distribution, origins.get(members[1]), request, path, query)
        return answer

    def _origin(self, distribution: Any, origin: Any, request: Request, path: str, query: tuple) -> Origin:
        if origin is None:
            return _bad_gateway()
        full_path = (origin.origin_path or "").rstrip("/") + path
        if found := _S3_ORIGIN.match(origin.domain_name):
            return self._s3(distribution, origin, found["bucket"], full_path, request)
        if found := _API_ORIGIN.match(origin.domain_name):
            return self._api_gateway(distribution, origin, found["api"], full_path, request, query)
        return _bad_gateway()  # another custom origin: not reachable from the local cloud

    def _s3(self, distribution: Any, origin: Any, bucket_name: str, path: str, request: Request) -> Origin:
        from moto.s3.models import s3_backends

        bucket = s3_backends[self.account_id]["aws"].buckets.get(bucket_name)
        if bucket is None:
            return _s3_error(404, "NoSuchBucket", "The specified bucket does not exist")
        if getattr(origin, "origin_access_control_id", ""):
            reader = s3_access.Reader(
                "cloudfront.amazonaws.com",
                {"AWS:SourceArn": distribution.arn, "AWS:SourceAccount": self.account_id},
            )
        else:
            reader = s3_access.Reader()
        key = unquote(path[1:])
        answer = s3_access.read(bucket, key, reader)
        if answer.status != 200:
            return _s3_error(answer.status, answer.code, s3_access.MESSAGES[answer.code])
        if answer.key is None:  # a listing: never through the CDN in this design
            return _s3_error(403, "AccessDenied", "Access Denied")
        found = answer.key
        return Origin(200, [*s3_access.object_headers(found), ("Server", "AmazonS3")], found.value)

    def _api_gateway(
        self, distribution: Any, origin: Any, api_id: str, path: str, request: Request, query: tuple
    ) -> Origin:
        cloudfront = cfn_cloudfront.backend(self.account_id)
        behaviour = distribution.distribution_config.DefaultCacheBehavior
        forwarding = _policy(cloudfront, behaviour.origin_request_policy_id, "origin-request")
        headers = {
            "Host": origin.domain_name,
            "User-Agent": "Amazon CloudFront",
            "Via": "2.0 local.cloudfront.net (CloudFront)",
            "X-Amz-Cf-Id": uuid.uuid4().hex,
            "X-Forwarded-For": request.remote_addr or "127.0.0.1",
        }
        forwarded = _forwarded_headers(forwarding, request)
        headers.update(forwarded)
        if headers["Host"] != origin.domain_name:
            # API Gateway answers a request for another host name (the viewer's, forwarded) with 403.
            return Origin(403, [("Content-Type", "application/json")], b'{"message":"Forbidden"}')
        arguments = list(query) + _forwarded_query(forwarding, request, {k for k, _ in query})
        environ = EnvironBuilder(
            path=unquote(path),
            method=request.method,
            headers=headers,
            query_string=urlencode(arguments),
            environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"},
        ).get_environ()
        try:
            response = self.api(Request(environ), f"{api_id}{path}")
        except Exception:  # the stage failed to answer at all: CloudFront's 502
            return _bad_gateway()
        body = b"" if request.method == "HEAD" else response.get_data()
        return Origin(response.status_code, list(response.headers.items()), body)


_REPLACED = {"content-length", "transfer-encoding", "connection", "age", "date"}
_REPLACED |= {"x-cache", "via", "x-amz-cf-pop", "x-amz-cf-id"}


def _viewer_headers(origin: list[tuple[str, str]], status: int, outcome: str, age: str) -> list:
    """The origin's headers as CloudFront forwards them, and its own (X-Cache, Via, Age on a hit...)."""
    headers = [(n, v) for n, v in origin if n.lower() not in _REPLACED]
    kind = "Error" if status >= 400 else outcome
    headers += [
        ("X-Cache", f"{kind} from cloudfront"),
        ("Via", "1.1 local.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Pop", "LOCAL1"),
        ("X-Amz-Cf-Id", base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode()[:56]),
    ]
    return [*headers, ("Age", age)] if age else headers


# -- policies -----------------------------------------------------------------------------------


def _enabled(distribution: Any) -> bool:
    return str(distribution.distribution_config.Enabled).lower() == "true"


def _policy(cloudfront: Any, policy_id: str | None, kind: str) -> dict[str, Any]:
    found = cfn_cloudfront.policies(cloudfront).get(policy_id or "")
    return found.config if found is not None and found.kind == kind else {}


def _cache_query(policy: dict[str, Any], args: Any) -> tuple:
    """The query string part of the cache key: none, the named ones, all but the named ones, or all."""
    config = (policy.get("ParametersInCacheKeyAndForwardedToOrigin") or {}).get("QueryStringsConfig") or {}
    behaviour = config.get("QueryStringBehavior", "none")
    names = set(config.get("QueryStrings") or [])
    pairs = [(k, v) for k in sorted(args) for v in args.getlist(k)]
    if behaviour == "whitelist":
        return tuple(p for p in pairs if p[0] in names)
    if behaviour == "allExcept":
        return tuple(p for p in pairs if p[0] not in names)
    if behaviour == "all":
        return tuple(pairs)
    return ()


def _forwarded_query(policy: dict[str, Any], request: Request, already: set[str]) -> list[tuple[str, str]]:
    config = policy.get("QueryStringsConfig") or {}
    behaviour = config.get("QueryStringBehavior", "none")
    names = set(config.get("QueryStrings") or [])
    pairs = [(k, v) for k, v in parse_qsl(request.query_string.decode(), keep_blank_values=True)]
    if behaviour == "all":
        return [p for p in pairs if p[0] not in already]
    if behaviour == "whitelist":
        return [p for p in pairs if p[0] in names and p[0] not in already]
    return []


def _forwarded_headers(policy: dict[str, Any], request: Request) -> dict[str, str]:
    config = policy.get("HeadersConfig") or {}
    behaviour = config.get("HeaderBehavior", "none")
    names = {n.lower() for n in config.get("Headers") or []}
    if behaviour in ("allViewer", "allViewerAndWhitelistCloudFront"):
        return dict(request.headers.items())
    if behaviour == "allExcept":
        return {k: v for k, v in request.headers.items() if k.lower() not in names}
    if behaviour == "whitelist":
        return {k: v for k, v in request.headers.items() if k.lower() in names}
    return {}


def _ttl(answer: Origin, policy: dict[str, Any]) -> float:
    """How long CloudFront keeps an answer, from its Cache-Control and the cache policy's TTLs."""
    low = float(policy.get("MinTTL", 0) or 0)
    default = float(policy.get("DefaultTTL", 86400) if policy else 86400)
    high = float(policy.get("MaxTTL", 31536000) if policy else 31536000)
    directives = {}
    for header, value in answer.headers:
        if header.lower() == "cache-control":
            for part in value.split(","):
                name, _, argument = part.strip().partition("=")
                directives[name.strip().lower()] = argument.strip().strip('"')
    if {"no-store", "no-cache", "private"} & set(directives):
        return low
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            return min(max(float(directives[name]), low), high)
    if answer.status >= 400:
        return ERROR_CACHING_MIN_TTL
    return min(max(default, low), high)


# -- answers ------------------------------------------------------------------------------------


def _s3_error(status: int, code: str, message: str) -> Origin:
    headers = [("Content-Type", "application/xml"), ("Server", "AmazonS3")]
    return Origin(status, headers, s3_access.error_xml(code, message))


def _bad_gateway() -> Origin:
    body = b"<html><body><h1>502 ERROR</h1><p>CloudFront could not connect to the origin.</p></body></html>"
    return Origin(502, [("Content-Type", "text/html")], body)


def _refusal(status: int, title: str, message: str) -> Response:
    body = f"<html><body><h1>{status} ERROR</h1><h2>{message}</h2><p>{title}</p></body></html>"
    response = Response(body, status=status, content_type="text/html")
    response.headers["X-Cache"] = "Error from cloudfront"
    return response


# -- invalidations ------------------------------------------------------------------------------


def install(cache: Cache) -> None:
    """Make moto's CreateInvalidation evict from ``cache`` (the running local CDN's) too."""
    from moto.cloudfront.models import CloudFrontBackend

    _patches.undo()
    create_invalidation = CloudFrontBackend.create_invalidation

    def invalidate(self: Any, dist_id: str, paths: list[str], caller_ref: str) -> Any:
        invalidation = create_invalidation(self, dist_id, paths, caller_ref)
        cache.invalidate(dist_id, list(paths))
        invalidation.status = "Completed"  # as CloudFront spells it (moto: COMPLETED); evicted already
        return invalidation

    _patches.set(
        CloudFrontBackend, "create_invalidation", invalidate, expect="self, dist_id, paths, caller_ref"
    )


def uninstall() -> None:
    _patches.undo()
