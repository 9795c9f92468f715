"""The local cloud's HTTP server: moto's AWS endpoint plus the front door, on one loopback port.

    python -m localcloud.server --port 4566 --data .resizer/local

Every path is moto's AWS API (use it with any SDK, the AWS CLI, dummy credentials), except
``/_aws/s3-website/...`` and ``/_aws/execute-api/...`` (localcloud.frontdoor),
``/_aws/cloudfront/...`` (localcloud.cdn) and ``/_localcloud/health``, which says the endpoint is
this local cloud (and whether its saves work). Anonymous GETs of objects on the S3 API are decided
by the bucket policy, as S3 decides them (localcloud.anonymous_s3).

Every write is on disk before it is answered (localcloud.persistence), bad input is refused as
AWS refuses it (localcloud.request_guard), and an unexpected error is answered in the AWS shape
of the request, with a request id, and logged with its traceback (never an HTML page).
"""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.contract import DEFAULT_DATA_DIR, DEFAULT_PORT, HEALTH_PATH, SERVICE_NAME

FAST_PATH = os.environ.get("LOCALCLOUD_FAST_PATH", "1") != "0"  # 0: every request through the WSGI app

log = logging.getLogger("localcloud")


@dataclass
class LocalCloud:
    """A running (or ready to run) local cloud: its WSGI app, its Lambda runtime, its URL."""

    base_url: str
    data_dir: Path
    app: Any
    runtime: Any
    server: Any = None
    saver: Any = None
    cdn: Any = None
    claim: Any = None  # localcloud.ownership.Claim: this process owns data_dir
    store: Any = None
    fast: Any = None  # localcloud.fast_path.FastPath: hits answered without the WSGI app

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        """Stop serving, stop the warm workers, and save the state one last time."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.runtime.shutdown()
        if self.saver is not None:
            self.saver.stop()
            self.saver = None
        if self.claim is not None:
            self.claim.release()


def build(base_url: str, data_dir: Path) -> LocalCloud:
    """Patch moto for fidelity and execution, and build the WSGI app (no socket yet)."""
    from localcloud import fast_start

    fast_start.import_moto_regions_once()
    fast_start.import_apigateway_without_openapi_validator()
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localcloud import (
        anonymous_s3,
        aws_errors,
        bucket_owner,
        cdn,
        cloudformation,
        durable_writes,
        fast_path,
        frontdoor,
        lambda_metrics,
        lambda_runtime,
        log_filter,
        metrics,
        moto_lambda,
        persistence,
        region_guard,
        request_guard,
        s3_events,
    )

    urls = cloudformation.LocalUrls(base_url)
    cloudformation.install(urls)
    metrics.install()  # AWS/Lambda and EMF metrics, percentiles
    log_filter.install()  # real filter patterns in FilterLogEvents
    runtime = lambda_runtime.Runtime(
        data_dir,
        lambda *args: None,
        endpoint_url=base_url,
        on_invoked=lambda spec, outcome: (
            persistence.touch(),
            lambda_metrics.publish_invocation(spec, outcome, runtime=runtime),
        ),
    )
    moto_lambda.install(runtime)
    s3_events.install()  # S3 -> EventBridge -> Lambda, asynchronously, in AWS's event shape

    def invoke(arn: str, event: str) -> Any:
        from moto.awslambda.models import lambda_backends

        region = arn.split(":")[3]
        try:
            fn = lambda_backends[DEFAULT_ACCOUNT_ID][region].get_function(arn)
        except Exception as exc:
            raise LookupError(arn) from exc
        runtime.log = moto_lambda.write_log(fn)
        try:
            return runtime.invoke(lambda_runtime.spec_of(fn), fn.code_bytes, event, region)
        except lambda_runtime.Throttled:
            return None

    door = frontdoor.FrontDoor(urls.rewrite, invoke)
    distributions = cdn.Cdn(door.api)
    cdn.install(distributions.cache)  # CreateInvalidation evicts from this cache
    aws = DomainDispatcherApplication(_propagating(create_backend_app))
    store = persistence.Store(data_dir)
    port = int(base_url.rsplit(":", 1)[1])
    identity = {"service": SERVICE_NAME, "pid": os.getpid(), "port": port, "data": str(data_dir)}
    identity["lambda_python"] = runtime.python.as_dict()  # what runs the functions (localcloud.interpreter)

    def handle(environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        served = door.handles(path) or distributions.handles(path)
        anonymous = anonymous_s3.read(environ)
        refusal = refused(environ, api=path != HEALTH_PATH and not served and anonymous is None)
        if refusal:
            body = json.dumps({"__type": "AccessDeniedException", "message": refusal}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [body]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            persistence.touch()  # invocations' logs and metrics: the next periodic snapshot writes them
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({**identity, "state": store.health()}).encode()]
        if door.handles(path):
            if path.startswith(frontdoor.API_PREFIX):
                request_guard.read_body(environ, limit=request_guard.API_PAYLOAD_LIMIT)
            return door(environ, start_response)
        if distributions.handles(path):
            return distributions(environ, start_response)
        if anonymous is not None:
            return anonymous(environ, start_response)
        wrong_owner = bucket_owner.refuse(environ, DEFAULT_ACCOUNT_ID, start_response)
        if wrong_owner is not None:
            return wrong_owner
        wrong_region = region_guard.refusal(environ)
        if wrong_region:
            start_response(wrong_region[0], wrong_region[1])
            return [wrong_region[2]]
        return durable_api(environ, start_response)

    def durable_api(environ: dict, start_response: Any) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        body = request_guard.read_body(environ) if method not in ("GET", "HEAD") else b""
        if aws_errors.service_of(environ) == "s3":
            problem = request_guard.s3_xml_problem(
                method, environ.get("QUERY_STRING", ""), environ.get("PATH_INFO", ""), body
            )
            if problem:
                return aws_errors.send(start_response, aws_errors.s3_error(*problem))
        work = durable_writes.plan(environ, body)
        if not work.anything:
            return aws(environ, start_response)
        answered: list = []
        result = aws(environ, lambda status, headers, exc_info=None: answered.append((status, headers)))
        try:
            chunks = list(result)
        finally:
            getattr(result, "close", lambda: None)()
        status, headers = answered[-1]
        try:
            durable_writes.persist(store, work, int(status.split()[0]), b"".join(chunks))
        except persistence.SaveFailed as failed:
            message = f"the local cloud could not save this write in {data_dir}: {failed}"
            return aws_errors.send(start_response, aws_errors.internal(environ, message))
        start_response(status, headers)
        return chunks

    def app(environ: dict, start_response: Any) -> Any:
        started: list[bool] = []

        def tracking(status: str, headers: list, exc_info: Any = None) -> Any:
            started.append(True)
            return start_response(status, headers, exc_info)

        def again() -> Any:  # WSGI: a second start_response must carry exc_info
            return sys.exc_info() if started else None

        try:
            return handle(environ, tracking)
        except request_guard.BodyTooLarge:
            answer = (413, [("Content-Type", "application/json")], b'{"message":"Request Too Long"}')
            return aws_errors.send(start_response, answer, close=True, exc_info=again())
        except request_guard.BodyTimeout:
            message = "Your socket connection to the server was not read from or written to in time."
            answer = aws_errors.for_request(environ, 400, "RequestTimeout", message)
            return aws_errors.send(start_response, answer, close=True, exc_info=again())
        except Exception as exc:
            log.exception("error on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            message = f"We encountered an internal error ({type(exc).__name__}). Please try again."
            answer = aws_errors.internal(environ, message)
            return aws_errors.send(start_response, answer, close=True, exc_info=again())

    fast = fast_path.FastPath(door, distributions, DEFAULT_ACCOUNT_ID) if FAST_PATH else None
    return LocalCloud(base_url, data_dir, app, runtime, cdn=distributions, store=store, fast=fast)


def _propagating(factory: Any) -> Any:
    """moto's Flask apps, raising unexpected errors to the server (instead of an HTML 500 page)."""

    def create(service: Any) -> Any:
        backend_app = factory(service)
        backend_app.config["PROPAGATE_EXCEPTIONS"] = True
        return backend_app

    return create


def refused(environ: dict, *, api: bool) -> str:
    """Why a request must not reach the local cloud ('' when it may).

    The endpoint has no real credentials, so what keeps other software out is that only this
    machine's SDKs talk to it: a loopback Host (a DNS-rebinding page has another), and for the
    AWS API a signed request (Authorization header or presigned query) with no browser Origin,
    so a web page cannot forge a form POST into a bucket (the website and API stage paths stay
    public, as on AWS).
    """
    from localcloud.request_guard import loopback_host

    host = environ.get("HTTP_HOST", "127.0.0.1")
    if loopback_host(host) is None:
        return f"the local cloud only answers requests for 127.0.0.1 or localhost, not {host!r}"
    if api and environ.get("HTTP_ORIGIN"):
        return "the local cloud's AWS API does not take requests from web pages"
    signed = environ.get("HTTP_AUTHORIZATION") or "X-Amz-Signature=" in environ.get("QUERY_STRING", "")
    if api and not signed:
        return "unsigned request: use an AWS SDK or the AWS CLI (any credentials work locally)"
    return ""


def start(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    *,
    verbose: bool = False,
    restore_previous: bool = False,
    claim: Any = None,
) -> LocalCloud:
    """Own the data folder (ownership.Owned if another process does), load the saved state, build
    and bind; the caller runs serve_forever (or starts a thread).

    persistence.StateUnreadable when the saved state cannot be trusted (nothing is bound then).
    """
    from localcloud import fast_start, ownership

    data_dir = (data_dir or DEFAULT_DATA_DIR).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    claim = claim or ownership.claim(data_dir, port)  # first: a second cloud is refused before any import
    try:
        fast_start.prefetch_lambda_python()  # a subprocess, on the other core while moto is imported
        fast_start.import_moto_regions_once()  # before anything imports moto's CloudFormation (ports does)
        fast_start.import_apigateway_without_openapi_validator()  # likewise: before moto's API Gateway
        from localcloud import http_server, persistence, ports

        cloud = build(f"http://{host}:{port}", data_dir)
        try:
            cloud.store.load(restore_previous=restore_previous)
            ports.follow(cloud.base_url)  # URLs stored by a run on another port now name this one
            with contextlib.suppress(persistence.SaveFailed):  # logged; health and each write say so
                cloud.store.start()  # a first snapshot: compacts the journals
            cloud.server = http_server.make_server(host, port, cloud.app)
            cloud.server.fast = cloud.fast
        except BaseException:
            cloud.runtime.shutdown()
            raise
    except BaseException:
        claim.release()
        raise
    cloud.claim = claim
    # The event loop gives the GIL up at every socket call; a handler thread running moto then kept
    # it for a whole switch interval. 1 ms instead of 5: mixed hits' p99 38-42 ms, not 41-47
    # (docs/PERFORMANCE.md). Set here, so `resizer up` (in process) and the server script get it.
    sys.setswitchinterval(float(os.environ.get("LOCALCLOUD_SWITCH_INTERVAL", "0.001")))
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    cloud.saver = persistence.Saver(cloud.store).start()
    return cloud


def main(argv: list[str] | None = None) -> int:
    from localcloud import persistence

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--restore-previous",
        action="store_true",
        help="start from the last readable saved generation when the newest one is damaged",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from localcloud import ownership

    try:
        cloud = start(args.host, args.port, args.data, verbose=True, restore_previous=args.restore_previous)
    except ownership.Owned as owned:
        print(f"cannot start: {owned}", file=sys.stderr)
        return 12
    except persistence.StateUnreadable as unreadable:
        print(f"cannot start: {unreadable}", file=sys.stderr)
        return persistence.EXIT_UNREADABLE
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=cloud.server.shutdown).start())
    print(f"local cloud ready at {cloud.base_url}", flush=True)
    try:
        cloud.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        cloud.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
