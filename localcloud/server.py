"""The local cloud's HTTP server: moto's AWS endpoint plus the front door, on one loopback port.

    python -m localcloud.server --port 4566 --data .resizer/local

Every path is moto's AWS API (use it with any SDK, the AWS CLI, dummy credentials), except
``/_aws/s3-website/...`` and ``/_aws/execute-api/...`` (localcloud.frontdoor) and
``/_localcloud/health``, which says the endpoint is this local cloud.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEALTH_PATH = "/_localcloud/health"
SERVICE_NAME = "resizer-localcloud"


@dataclass
class LocalCloud:
    """A running (or ready to run) local cloud: its WSGI app, its Lambda runtime, its URL."""

    base_url: str
    data_dir: Path
    app: Any
    runtime: Any
    server: Any = None
    saver: Any = None

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


def build(base_url: str, data_dir: Path) -> LocalCloud:
    """Patch moto for fidelity and execution, and build the WSGI app (no socket yet)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localcloud import (
        cloudformation,
        frontdoor,
        lambda_runtime,
        log_filter,
        metrics,
        moto_lambda,
        persistence,
        region_guard,
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
            metrics.publish_invocation(spec, outcome, runtime=runtime),
        ),
    )
    moto_lambda.install(runtime)

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
    aws = DomainDispatcherApplication(create_backend_app)
    health = json.dumps({"service": SERVICE_NAME, "pid": os.getpid(), "data": str(data_dir)}).encode()

    def app(environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        refusal = refused(environ, api=path != HEALTH_PATH and not door.handles(path))
        if refusal:
            body = json.dumps({"__type": "AccessDeniedException", "message": refusal}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [body]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            persistence.touch()  # something may change: the next periodic save writes it
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [health]
        if door.handles(path):
            return door(environ, start_response)
        wrong_region = region_guard.refusal(environ)
        if wrong_region:
            start_response(wrong_region[0], wrong_region[1])
            return [wrong_region[2]]
        return aws(environ, start_response)

    return LocalCloud(base_url, data_dir, app, runtime)


def refused(environ: dict, *, api: bool) -> str:
    """Why a request must not reach the local cloud ('' when it may).

    The endpoint has no real credentials, so what keeps other software out is that only this
    machine's SDKs talk to it: a loopback Host (a DNS-rebinding page has another), and for the
    AWS API a signed request (Authorization header or presigned query) with no browser Origin,
    so a web page cannot forge a form POST into a bucket (the website and API stage paths stay
    public, as on AWS).
    """
    host = environ.get("HTTP_HOST", "127.0.0.1").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in ("127.0.0.1", "localhost", "[::1]") and not name.endswith(".localhost"):
        return f"the local cloud only answers requests for 127.0.0.1 or localhost, not {host}"
    if api and environ.get("HTTP_ORIGIN"):
        return "the local cloud's AWS API does not take requests from web pages"
    signed = environ.get("HTTP_AUTHORIZATION") or "X-Amz-Signature=" in environ.get("QUERY_STRING", "")
    if api and not signed:
        return "unsigned request: use an AWS SDK or the AWS CLI (any credentials work locally)"
    return ""


def start(
    host: str = "127.0.0.1", port: int = 4566, data_dir: Path | None = None, *, verbose: bool = False
) -> LocalCloud:
    """Build and bind; the caller runs serve_forever (or start a thread)."""
    from werkzeug.serving import make_server

    from localcloud import persistence

    data_dir = (data_dir or Path(".resizer/local")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cloud = build(f"http://{host}:{port}", data_dir)
    cloud.server = make_server(host, port, cloud.app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    persistence.load(data_dir)
    cloud.saver = persistence.Saver(data_dir).start()
    return cloud


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--data", type=Path, default=Path(".resizer/local"))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    try:
        cloud = start(args.host, args.port, args.data, verbose=True)
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
