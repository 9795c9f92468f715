"""The local cloud's request path, measured on a real server process.

Starts ``python -m localcloud.server`` on a free loopback port with a temporary data dir
(and RESIZER_CACHE_DIR in a temporary dir unless set), deploys the stack with
``operations.local.provision``, uploads a 1600x1200 photo-like JPEG and the 12 MP bench photo
(../shared/bench-images/photo-12mp.jpg, see benchmarks.photos; the generated 12 MP sample when
absent), then, in one run:

  miss     a new size each time through the front door, redirects followed over keep-alive:
           website 404 -> routing rule 307 -> API stage -> the function in a warm worker (fetch,
           resize, store) -> 302 -> the stored object; beside it the handler's own Duration from
           its REPORT line, and the difference (what the local cloud adds to a miss)
  hit      the same stored object again: one website GET
  floors   GET /_localcloud/health (HTTP alone) and GetFunctionConfiguration (boto3 + moto alone)
  invoke   the Invoke API (boto3, retries off, LogType=Tail) on a no-op function created through
           the Lambda API, and on the resizer with a path it refuses at once (400): round trip
           minus the REPORT Duration is the invoke overhead (target: under 20 ms warm); the same
           difference for ``Runtime.invoke`` in this process (no HTTP, no moto) isolates the runtime
  cold     the first invocation of each function: Init Duration and the whole call
  cdn      a second stack with the cdn delivery (the default): a new size of the 1600x1200 photo
           through the local CloudFront (one round trip: S3 403 -> failover to the API stage ->
           the function answers the image -> cached), the same URL again (a cache hit), and after
           an invalidation of every path (a cache miss that S3 serves, no function)

The main stack uses the website delivery (the rows above); the cdn rows use their own stack.

With ``--concurrent``, only the load at ``--clients`` (32) clients instead, each case for
``--seconds`` (10): a website stack and a cdn stack, a 400x300 JPEG stored in both buckets, then
hits alone through the website, through the local CloudFront (cached after one warm-up GET) and
as a signed S3 GetObject (SigV4 headers made once), each with every client on it; then a mixed
load, 4 clients asking for new widths of the 1600x1200 through the website (misses: the function
runs) while the others hit the three in turn. The clients are one asyncio event loop in this
process on raw keep-alive connections (no http.client, no threads), so the load generator costs
little of the server's CPU. Rows: requests per second, p50 and p99 latency, failures.

    python -m benchmarks.localcloud [--requests 30]
    python -m benchmarks.localcloud --concurrent [--clients 32] [--seconds 10]
"""

import argparse
import base64
import contextlib
import hashlib
import http.client
import io
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from benchmarks.photos import IMAGES

PHOTO_12MP = "photo-12mp.jpg"
SMALL_KEY, LARGE_KEY = "bench/photo-1600x1200.jpg", "bench/photo-12mp.jpg"
TARGET_OVERHEAD_MS = 20.0
NOOP_CODE = "def handler(event, context):\n    return {'ok': True}\n"
REFUSED_PATH = "/300x200,webp,q5/sample.jpg"  # non-canonical: the handler answers 400 without any I/O
START_TIMEOUT_S = 60.0
_REPORT = re.compile(r"REPORT RequestId: (?P<id>\S+)\tDuration: (?P<ms>[\d.]+) ms")
_INIT = re.compile(r"Init Duration: (?P<ms>[\d.]+) ms")


class BenchError(Exception):
    """The local cloud did not do what the benchmark needs (a failed start, a wrong answer)."""


@dataclass
class Row:
    case: str
    samples: list[float] = field(default_factory=list)


def summary(samples: list[float]) -> tuple[float, float | None]:
    """Median and p90 (None for a single sample)."""
    if len(samples) < 2:
        return samples[0], None
    return statistics.median(samples), statistics.quantiles(samples, n=10, method="inclusive")[-1]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# -- the server process ------------------------------------------------------------------------


@contextlib.contextmanager
def local_cloud(data_dir: Path, log_path: Path) -> Iterator[str]:
    """A `python -m localcloud.server` process on a free port; its URL; SIGTERM at the end."""
    from localcloud.process import running

    try:
        with running(data_dir, log=log_path, timeout=START_TIMEOUT_S) as url:
            yield url
    except RuntimeError as exc:
        raise BenchError(str(exc)) from None


@contextlib.contextmanager
def cache_dir(parent: Path) -> Iterator[None]:
    """RESIZER_CACHE_DIR in parent unless the caller set one (the package build's pip cache)."""
    if os.environ.get("RESIZER_CACHE_DIR"):
        yield
        return
    os.environ["RESIZER_CACHE_DIR"] = str(parent / "resizer-cache")
    try:
        yield
    finally:
        os.environ.pop("RESIZER_CACHE_DIR", None)


def provision(url: str, stack: str = "resizer", **parameters: str):
    from operations import local

    events = local.provision(url, stack_name=stack, parameters=parameters)
    return [event for event in events if isinstance(event, local.Ready)][-1]


def upload_originals(s3, bucket: str, images: Path) -> str:
    """The 1600x1200 and 12 MP originals; says which 12 MP photo it is."""
    from localcloud import sample

    s3.put_object(Bucket=bucket, Key=SMALL_KEY, Body=sample.jpeg(1600, 1200), ContentType="image/jpeg")
    photo = images / PHOTO_12MP
    if photo.is_file():
        s3.put_object(Bucket=bucket, Key=LARGE_KEY, Body=photo.read_bytes(), ContentType="image/jpeg")
        return PHOTO_12MP
    s3.copy_object(Bucket=bucket, Key=LARGE_KEY, CopySource={"Bucket": bucket, "Key": "sample.jpg"})
    return "generated 4000x3000 sample"


# -- HTTP, as a browser does it ----------------------------------------------------------------


class Browser:
    """GET following redirects, over one keep-alive connection per host."""

    def __init__(self) -> None:
        self._connections: dict[str, http.client.HTTPConnection] = {}

    def get(self, url: str, max_hops: int = 5) -> tuple[int, bytes, int]:
        """Status, body and the number of redirects followed."""
        for hops in range(max_hops + 1):
            status, location, body = self._once(url)
            if status not in (301, 302, 303, 307, 308):
                return status, body, hops
            url = urljoin(url, location)
        raise BenchError(f"more than {max_hops} redirects for {url}")

    def _once(self, url: str) -> tuple[int, str, bytes]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):  # the server may have closed an idle connection
            connection = self._connection(parts.netloc)
            try:
                connection.request("GET", target)
                reply = connection.getresponse()
                return reply.status, reply.getheader("Location", ""), reply.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                del self._connections[parts.netloc]
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _connection(self, netloc: str) -> http.client.HTTPConnection:
        if netloc not in self._connections:
            self._connections[netloc] = http.client.HTTPConnection(netloc, timeout=60)
        return self._connections[netloc]

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()


def timed_get(browser: Browser, url: str, hops: int) -> float:
    """One GET (redirects followed) in ms; BenchError unless it ends in a 200 after `hops` redirects."""
    started = time.perf_counter()
    status, body, followed = browser.get(url)
    elapsed = _ms(started)
    if status != 200 or followed != hops or not body:
        raise BenchError(f"GET {url}: {status} after {followed} redirects (expected 200 after {hops})")
    return elapsed


# -- the front door ----------------------------------------------------------------------------


def sizes(count: int) -> list[str]:
    """Distinct thumbnail widths, so each request is a miss."""
    return [f"{120 + 8 * index}x" for index in range(count)]


def misses(browser: Browser, website: str, key: str, count: int) -> dict[str, float]:
    """Path -> ms of a miss (307 to the API, the function, 302 to the stored object)."""
    return {f"/{size}/{key}": timed_get(browser, f"{website}/{size}/{key}", 2) for size in sizes(count)}


def reports(logs, group: str) -> tuple[dict[str, dict], dict[str, tuple[float, float | None]]]:
    """From the function's log group: path -> the handler's JSON line (request id, stage ms), and
    request id -> (Duration, Init Duration) from the REPORT line."""
    lines, durations, token = {}, {}, None
    while True:
        page = logs.filter_log_events(logGroupName=group, **({"nextToken": token} if token else {}))
        for event in page["events"]:
            message = event["message"]
            if message.startswith("{"):
                line = json.loads(message)
                lines[line.get("path")] = line
            elif found := _REPORT.search(message):
                init = _INIT.search(message)
                durations[found["id"]] = (float(found["ms"]), float(init["ms"]) if init else None)
        token = page.get("nextToken")
        if not token:
            return lines, durations


def report_of(path: str, lines: dict, durations: dict) -> tuple[float, float | None]:
    """(Duration, Init Duration) of the request for path."""
    try:
        return durations[lines[path]["request_id"]]
    except KeyError as missing:
        raise BenchError(f"no handler log line or REPORT for {missing}") from None


def miss_rows(label: str, timings: dict[str, float], lines: dict, durations: dict) -> list[Row]:
    total = list(timings.values())
    handler = [report_of(path, lines, durations)[0] for path in timings]
    s3 = [lines[path]["ms"]["fetch"] + lines[path]["ms"]["store"] for path in timings]
    return [
        Row(f"MISS {label} -> Wx: front door, redirects followed", total),
        Row(f"MISS {label}: the handler's REPORT Duration", handler),
        Row(f"MISS {label}: of which S3 GET original + PUT result (moto)", s3),
        Row(f"MISS {label}: front door - Duration (the local cloud's share)", _minus(total, handler)),
    ]


# -- Invoke ------------------------------------------------------------------------------------


def noop_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("noop.py", NOOP_CODE)
    return buffer.getvalue()


def create_noop(clients, code: bytes) -> str:
    role = clients.client("iam").create_role(RoleName="bench-noop", AssumeRolePolicyDocument="{}")
    clients.client("lambda").create_function(
        FunctionName="bench-noop",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="noop.handler",
        Code={"ZipFile": code},
        MemorySize=128,
        Timeout=3,
    )
    return "bench-noop"


def invoke(lam, name: str, payload: bytes) -> tuple[float, float, float | None]:
    """One Invoke: client round trip, REPORT Duration, Init Duration (ms)."""
    started = time.perf_counter()
    reply = lam.invoke(FunctionName=name, Payload=payload, LogType="Tail")
    reply["Payload"].read()
    elapsed = _ms(started)
    tail = base64.b64decode(reply["LogResult"]).decode()
    report, init = _REPORT.search(tail), _INIT.search(tail)
    if report is None or reply.get("FunctionError"):
        raise BenchError(f"Invoke {name}: {reply.get('FunctionError')}\n{tail}")
    return elapsed, float(report["ms"]), float(init["ms"]) if init else None


def apigateway_event(path: str) -> bytes:
    """A REST API (payload v1) proxy event, as the API stage builds it."""
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "image/*"},
        "pathParameters": {"proxy": path[1:]},
        "queryStringParameters": None,
        "requestContext": {"stage": "v1", "httpMethod": "GET", "path": f"/v1{path}"},
        "body": None,
        "isBase64Encoded": False,
    }
    return json.dumps(event).encode()


def warm_invokes(lam, name: str, payload: bytes, count: int) -> tuple[list[float], list[float]]:
    """Round trips and REPORT Durations of `count` warm invocations."""
    trips, durations = [], []
    for _ in range(count):
        trip, duration, _ = invoke(lam, name, payload)
        trips.append(trip)
        durations.append(duration)
    return trips, durations


def in_process(code: bytes, count: int) -> tuple[tuple[float, float], list[float]]:
    """Runtime.invoke of the no-op function in this process: (cold Init, cold call ms) and the
    warm overheads (call - REPORT Duration): pipes, JSON and bookkeeping, no HTTP, no moto."""
    from localcloud import lambda_runtime

    digest = base64.b64encode(hashlib.sha256(code).digest()).decode()
    spec = lambda_runtime.FunctionSpec(
        "bench-noop", "arn:aws:lambda:us-east-1:123456789012:function:bench-noop", "noop.handler",
        "python3.12", 128, 3, digest, (), "/aws/lambda/bench-noop", None,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as data:
        runtime = lambda_runtime.Runtime(Path(data), lambda *_: None, endpoint_url="http://127.0.0.1:9")
        try:
            started = time.perf_counter()
            first = runtime.invoke(spec, code, "{}", "us-east-1")
            cold = (first.init_ms or 0.0, _ms(started))
            overheads = []
            for _ in range(count):
                started = time.perf_counter()
                outcome = runtime.invoke(spec, code, "{}", "us-east-1")
                overheads.append(_ms(started) - outcome.duration_ms)
        finally:
            runtime.shutdown()
    return cold, overheads


def floors(browser: Browser, url: str, lam, name: str, count: int) -> tuple[list[float], list[float]]:
    """GET of the health path (HTTP alone) and GetFunctionConfiguration (boto3 + moto alone)."""
    health = []
    for _ in range(count):
        started = time.perf_counter()
        status, _, _ = browser.get(f"{url}/_localcloud/health")
        health.append(_ms(started))
        if status != 200:
            raise BenchError(f"health: {status}")
    api = []
    for _ in range(count):
        started = time.perf_counter()
        lam.get_function_configuration(FunctionName=name)
        api.append(_ms(started))
    return health, api


# -- the run -----------------------------------------------------------------------------------


def front_door(ready, clients, browser: Browser, count: int, large_name: str) -> list[Row]:
    website = ready.outputs["WebsiteUrl"]
    first = f"/100x100/{SMALL_KEY}"
    cold_total = timed_get(browser, website + first, 2)  # the resizer's first call: a cold start
    timed_get(browser, f"{website}/99x/{LARGE_KEY}", 2)  # first touch of the 12 MP path, untimed
    small = misses(browser, website, SMALL_KEY, count)
    large = misses(browser, website, LARGE_KEY, count)
    hit_path = next(iter(large))
    hits = [timed_get(browser, website + hit_path, 0) for _ in range(count)]
    size = len(browser.get(website + hit_path)[1])
    lines, durations = reports(clients.client("logs"), ready.outputs["LogGroupName"])
    cold_duration, cold_init = report_of(first, lines, durations)
    return [
        *miss_rows("1600x1200", small, lines, durations),
        *miss_rows(large_name, large, lines, durations),
        Row(f"HIT {hit_path.split('/')[1]} of the 12 MP ({size} B): one website GET", hits),
        Row("cold: resizer Init Duration (REPORT)", [cold_init or 0.0]),
        Row("cold: resizer first request, REPORT Duration", [cold_duration]),
        Row("cold: resizer first request, front door total", [cold_total]),
    ]


def invoke_rows(url: str, clients, browser: Browser, count: int, function: str) -> list[Row]:
    lam = clients.client("lambda", retries=False)
    code = noop_zip()
    name = create_noop(clients, code)
    cold_trip, _, cold_init = invoke(lam, name, b"{}")
    trips, durations = warm_invokes(lam, name, b"{}", count)
    invoke(lam, function, apigateway_event(REFUSED_PATH))  # the resizer is warm already; make sure
    r_trips, r_durations = warm_invokes(lam, function, apigateway_event(REFUSED_PATH), count)
    health, api = floors(browser, url, lam, name, count)
    (rt_init, rt_cold), rt_overheads = in_process(code, count)
    return [
        Row("floor: GET /_localcloud/health (HTTP only)", health),
        Row("floor: GetFunctionConfiguration (boto3 + HTTP + moto)", api),
        Row("Invoke no-op, warm: round trip", trips),
        Row("Invoke no-op, warm: REPORT Duration", durations),
        Row("**Invoke no-op, warm: overhead (round trip - Duration)**", _minus(trips, durations)),
        Row("Invoke resizer (400 path), warm: overhead", _minus(r_trips, r_durations)),
        Row("Runtime.invoke in-process, no-op, warm: overhead", rt_overheads),
        Row("cold: no-op Init Duration (Invoke API)", [cold_init or 0.0]),
        Row("cold: no-op first Invoke, round trip", [cold_trip]),
        Row(f"cold: no-op first Runtime.invoke in-process (Init {rt_init:.1f} ms)", [rt_cold]),
    ]


def cdn_rows(url: str, browser: Browser, count: int) -> list[Row]:
    """Misses, hits and post-invalidation misses through a cdn stack's distribution."""
    from localcloud import sample
    from operations.aws import Clients

    ready = provision(url, "bench-cdn")
    clients = Clients.for_local_cloud(url)
    cdn = ready.outputs["CdnUrl"]
    body = sample.jpeg(1600, 1200)
    clients.client("s3").put_object(
        Bucket=ready.outputs["BucketName"], Key=SMALL_KEY, Body=body, ContentType="image/jpeg"
    )
    timed_get(browser, f"{cdn}/99x/{SMALL_KEY}", 0)  # the function's cold start, untimed
    paths = [f"/{size}/{SMALL_KEY}" for size in sizes(count)]
    missed = [timed_get(browser, cdn + path, 0) for path in paths]
    hits = [timed_get(browser, cdn + path, 0) for path in paths]
    clients.client("cloudfront").create_invalidation(
        DistributionId=ready.outputs["DistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "bench"},
    )
    from_s3 = [timed_get(browser, cdn + path, 0) for path in paths]
    return [
        Row("CDN MISS 1600x1200 -> Wx: one GET, S3 403, failover, the function answers 200", missed),
        Row("CDN MISS after an invalidation: one GET, served by S3 (no function)", from_s3),
        Row("CDN HIT: one GET, X-Cache: Hit from cloudfront", hits),
    ]


# -- concurrent load: 32 keep-alive clients ----------------------------------------------------


HIT_KEY = "bench/hit.jpg"
MISS_CLIENTS = 4


@dataclass
class Load:
    """What one kind of request did under load: latencies (ms) and how many failed."""

    kind: str
    samples: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str = ""


class _Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: GETs with fixed extra headers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def get(self, target: str, headers: str = "") -> tuple[int, dict[str, str], bytes]:
        import asyncio

        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                head = f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}\r\n"
                self.writer.write(head.encode())
                return await self._answer()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self) -> tuple[int, dict[str, str], bytes]:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                fields[name.strip().lower()] = value.strip()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, fields, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _signed_get_headers(url: str, bucket: str, key: str) -> str:
    """SigV4 headers of a GetObject as boto3 sends them, signed once (the local cloud checks their
    presence, not the signature)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest("GET", f"{url}/{bucket}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})
    SigV4Auth(Credentials("localcloud", "localcloud"), "s3", "us-east-1").add_auth(request)
    return "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")


async def _drive(url: str, jobs: list, seconds: float) -> list[Load]:
    """Run each job (kind, coroutine factory taking a connection) on its own connection for seconds."""
    import asyncio

    parts = urlsplit(url)
    deadline = time.perf_counter() + seconds
    loads: dict[str, Load] = {}

    async def client(kind: str, request) -> None:
        load = loads.setdefault(kind, Load(kind))
        connection = _Connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    problem = await request(connection)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    connection.close()
                if problem:
                    load.failures += 1
                    load.first_failure = load.first_failure or problem
                else:
                    load.samples.append(_ms(started))
        finally:
            connection.close()

    await asyncio.gather(*(client(kind, request) for kind, request in jobs))
    return list(loads.values())


def _hit(target: str, headers: str = ""):
    async def request(connection: _Connection) -> str:
        status, fields, body = await connection.get(target, headers)
        if status != 200 or not body:
            return f"GET {target}: {status} {fields.get('x-cache', '')}"
        return ""

    return request


def _misses(website_path: str, key: str, first_width: int):
    """Each call a new width of key through the website: 404 -> 307 -> API -> function -> 302 -> 200."""
    widths = iter(range(first_width, 4000))

    async def request(connection: _Connection) -> str:
        target = f"{website_path}/{next(widths)}x/{key}"
        for _ in range(3):
            status, fields, _ = await connection.get(target)
            if status not in (301, 302, 307):
                return "" if status == 200 else f"miss {target}: {status}"
            target = urlsplit(urljoin(f"http://127.0.0.1{target}", fields["location"])).path
        return f"miss {target}: too many redirects"

    return request


def concurrent_rows(url: str, clients_count: int, seconds: float) -> list[tuple[str, Load, float]]:
    """Hits alone (website, CDN, S3 GetObject) and a mixed load, each with clients_count clients."""
    import asyncio

    from localcloud import sample
    from operations.aws import Clients

    website_stack = provision(url, "bench-website", Delivery="website")
    cdn_stack = provision(url, "bench-cdn")
    s3 = Clients.for_local_cloud(url).client("s3")
    hit_body = sample.jpeg(400, 300)
    for ready in (website_stack, cdn_stack):
        bucket = ready.outputs["BucketName"]
        s3.put_object(Bucket=bucket, Key=HIT_KEY, Body=hit_body, ContentType="image/jpeg")
        s3.put_object(Bucket=bucket, Key=SMALL_KEY, Body=sample.jpeg(1600, 1200), ContentType="image/jpeg")
    website = urlsplit(website_stack.outputs["WebsiteUrl"]).path
    cdn = urlsplit(cdn_stack.outputs["CdnUrl"]).path
    bucket = website_stack.outputs["BucketName"]
    signed = _signed_get_headers(url, bucket, HIT_KEY)
    hits = {
        "website": _hit(f"{website}/{HIT_KEY}"),
        "cdn": _hit(f"{cdn}/{HIT_KEY}"),
        "s3 GetObject": _hit(f"/{bucket}/{HIT_KEY}", signed),
    }
    browser = Browser()
    try:  # warm: the CDN caches the object, the function starts
        timed_get(browser, f"{url}{cdn}/{HIT_KEY}", 0)
        timed_get(browser, f"{url}{website}/99x/{SMALL_KEY}", 2)
    finally:
        browser.close()
    results = []
    for kind, request in hits.items():
        jobs = [(f"hit {kind}", request)] * clients_count
        (load,) = asyncio.run(_drive(url, jobs, seconds))
        results.append((f"hits alone, {kind}", load, seconds))
    kinds = list(hits.values())
    misses_count = min(MISS_CLIENTS, clients_count - 1)
    jobs = [("hit", kinds[index % len(kinds)]) for index in range(clients_count - misses_count)]
    jobs += [("miss", _misses(website, SMALL_KEY, 100 + 1000 * index)) for index in range(misses_count)]
    for load in asyncio.run(_drive(url, jobs, seconds)):
        label = "website/cdn/s3 in turn" if load.kind == "hit" else "new widths of the 1600x1200"
        results.append((f"mixed, {load.kind}{'es' if load.kind == 'miss' else 's'} ({label})", load, seconds))
    return results


def concurrent_table(results: list[tuple[str, Load, float]], clients_count: int) -> list[str]:
    lines = [
        f"| {clients_count} clients | req/s | p50 ms | p99 ms | n | failed |",
        "|---|---|---|---|---|---|",
    ]
    for case, load, seconds in results:
        ordered = sorted(load.samples) or [float("nan")]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rate = len(load.samples) / seconds
        failed = f"{load.failures} ({load.first_failure[:60]})" if load.failures else "0"
        median = statistics.median(ordered)
        lines.append(f"| {case} | {rate:.1f} | {median:.1f} | {p99:.1f} | {len(load.samples)} | {failed} |")
    return lines


def run_concurrent(clients_count: int, seconds: float) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-localcloud-") as tmp:
        root = Path(tmp)
        with cache_dir(root), local_cloud(root / "data", root / "server.log") as url:
            return concurrent_table(concurrent_rows(url, clients_count, seconds), clients_count)


def _minus(first: list[float], second: list[float]) -> list[float]:
    return [a - b for a, b in zip(first, second, strict=True)]


def run(count: int, images: Path) -> list[Row]:
    from operations.aws import Clients

    with tempfile.TemporaryDirectory(prefix="bench-localcloud-") as tmp:
        root = Path(tmp)
        with cache_dir(root), local_cloud(root / "data", root / "server.log") as url:
            ready = provision(url, Delivery="website")
            clients = Clients.for_local_cloud(url)
            large = upload_originals(clients.client("s3"), ready.outputs["BucketName"], images)
            browser = Browser()
            try:
                rows = front_door(ready, clients, browser, count, large)
                rows += invoke_rows(url, clients, browser, count, ready.outputs["FunctionName"])
                rows += cdn_rows(url, browser, count)
            finally:
                browser.close()
    return sorted(rows, key=lambda row: row.case.startswith("cold"))  # warm cases first, stable


def table(rows: list[Row]) -> list[str]:
    lines = ["| case | median ms | p90 ms | n |", "|---|---|---|---|"]
    for row in rows:
        median, p90 = summary(row.samples)
        shown = "-" if p90 is None else f"{p90:.1f}"
        lines.append(f"| {row.case} | {median:.1f} | {shown} | {len(row.samples)} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="requests per warm case (default 30)")
    parser.add_argument("--images", type=Path, default=Path(os.environ.get("BENCH_IMAGES", IMAGES)))
    parser.add_argument("--concurrent", action="store_true", help="only the load at --clients clients")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrent case (default 10)")
    args = parser.parse_args()
    from operations.errors import OperationError

    if args.concurrent:
        try:
            lines = run_concurrent(max(2, args.clients), args.seconds)
        except (BenchError, OperationError) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        load = os.getloadavg()[0]
        print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}")
        print("\n".join(lines))
        return 0

    started = time.monotonic()
    try:
        rows = run(max(2, args.requests), args.images)
    except (BenchError, OperationError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {elapsed:.0f} s in all")
    print("\n".join(table(rows)))
    overhead = statistics.median(next(r for r in rows if "no-op, warm: overhead" in r.case).samples)
    verdict = "met" if overhead < TARGET_OVERHEAD_MS else "NOT met"
    print(f"warm invoke overhead {overhead:.1f} ms: target < {TARGET_OVERHEAD_MS:.0f} ms {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
