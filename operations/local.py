"""The local cloud as an operation: start it, deploy the stack into it, seed a sample photo.

``start`` runs the embedded local cloud (localcloud.server) on a loopback port in this process;
``provision`` deploys the same template and zip as on AWS (a no-op when unchanged), uploads a
generated sample photo when the bucket is empty, and yields progress ending with ``Ready``.
"""

import errno
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from localcloud import contract
from operations import deploy, stack
from operations.aws import LOCAL_REGION, Clients, Target, translated
from operations.config import Settings
from operations.errors import AlreadyRunning, LocalStateUnreadable, OperationError

DEFAULT_DATA_DIR = contract.DEFAULT_DATA_DIR
SAMPLE_KEY = "sample.jpg"


@dataclass(frozen=True)
class SampleUploaded:
    bucket: str
    key: str
    size: int


@dataclass(frozen=True)
class Ready:
    """Everything a user needs once the local cloud is up."""

    endpoint_url: str
    stack: str
    region: str
    outputs: dict[str, str]

    @property
    def images_url(self) -> str:
        """Where images are requested: the CDN (cdn delivery) or the bucket's website."""
        return self.outputs.get("CdnUrl") or self.outputs.get("WebsiteUrl", "")

    @property
    def sample_url(self) -> str:
        return f"{self.images_url}/{SAMPLE_KEY}"

    @property
    def resized_url(self) -> str:
        return f"{self.images_url}/300x200/{SAMPLE_KEY}"


class Handle:
    """A local cloud running in a background thread of this process."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.endpoint_url: str = cloud.base_url
        self._thread = threading.Thread(target=cloud.serve_forever, name="localcloud", daemon=True)
        self._thread.start()

    @property
    def lambda_python(self) -> Any:
        """The localcloud.interpreter.Interpreter that runs the functions (its warning if not 3.12)."""
        return self.cloud.runtime.python

    def stop(self) -> None:
        self.cloud.shutdown()
        self._thread.join(timeout=10)


def start(
    port: int = contract.DEFAULT_PORT,
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    reset: bool = False,
    restore_previous: bool = False,
) -> Handle:
    """Start the local cloud on 127.0.0.1:port; AlreadyRunning if one owns data_dir or answers there,
    LocalStateUnreadable if its saved state cannot be trusted."""
    from localcloud import ownership, persistence, server

    endpoint = contract.endpoint(port)
    try:
        claim = ownership.claim(data_dir.resolve(), port)
    except ownership.Owned as owned:
        where = contract.endpoint(owned.port) if owned.port else "another port"
        raise AlreadyRunning(
            f"a local cloud (PID {owned.pid or '?'}) is already running at {where} on {data_dir}",
            hint=f"use it (RESIZER_LOCAL_PORT={owned.port} resizer status), or stop it with Ctrl-C "
            "where it runs; one data folder has one local cloud",
        ) from None
    try:
        other = local_cloud_at(endpoint)
        if other:
            raise AlreadyRunning(
                f"a local cloud (PID {other.get('pid', '?')}) is already running at {endpoint} "
                f"on {other.get('data', 'another data folder')}",
                hint="use it (resizer status), or choose another port with --port or RESIZER_LOCAL_PORT",
            )
        if reset:
            ownership.empty(claim.data_dir)
        return Handle(
            server.start(contract.LOOPBACK, port, data_dir, claim=claim, restore_previous=restore_previous)
        )
    except persistence.StateUnreadable as unreadable:
        claim.release()
        raise LocalStateUnreadable(str(unreadable)) from None
    except OSError as exc:
        claim.release()
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise OperationError(
            f"port {port} is busy: {exc.strerror}", hint="choose another with --port or RESIZER_LOCAL_PORT"
        ) from None
    except BaseException:
        claim.release()
        raise


def local_cloud_at(endpoint_url: str) -> dict:
    """What the local cloud answering at endpoint_url says of itself ({} when none answers)."""
    return contract.health(endpoint_url)


@translated
def provision(
    endpoint_url: str,
    *,
    stack_name: str = "resizer",
    parameters: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Any]:
    """Deploy the stack into the local cloud (if changed) and seed the sample; end with Ready."""
    clients = Clients.for_local_cloud(endpoint_url)
    settings = Settings(
        Target(stack=stack_name, region=LOCAL_REGION, endpoint_url=endpoint_url), parameters or {}
    )
    planned = deploy.plan(clients, settings, platform="local", sleep=sleep)
    yield planned
    yield from deploy.execute(clients, planned, sleep=sleep, poll=0.2)
    outputs = stack.outputs(stack.require(clients.client("cloudformation"), stack_name))
    bucket = outputs["BucketName"]
    s3 = clients.client("s3")
    if not s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount"):
        from localcloud import sample

        body = sample.jpeg()
        s3.put_object(Bucket=bucket, Key=SAMPLE_KEY, Body=body, ContentType="image/jpeg")
        yield SampleUploaded(bucket, SAMPLE_KEY, len(body))
    yield Ready(endpoint_url, stack_name, LOCAL_REGION, outputs)


def port_of(endpoint_url: str) -> int:
    return urlparse(endpoint_url).port or 80
