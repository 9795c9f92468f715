"""The local cloud as an operation: start it, deploy the stack into it, seed a sample photo.

``start`` runs the embedded local cloud (localcloud.server) on a loopback port in this process;
``provision`` deploys the same template and zip as on AWS (a no-op when unchanged), uploads a
generated sample photo when the bucket is empty, and yields progress ending with ``Ready``.
"""

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from operations import deploy, stack
from operations.aws import LOCAL_REGION, Clients, Target, probe_local_cloud, translated
from operations.config import Settings
from operations.errors import AlreadyRunning, LocalStateUnreadable, OperationError

DEFAULT_DATA_DIR = Path(".resizer/local")
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
    def sample_url(self) -> str:
        return f"{self.outputs.get('WebsiteUrl', '')}/{SAMPLE_KEY}"

    @property
    def resized_url(self) -> str:
        return f"{self.outputs.get('WebsiteUrl', '')}/300x200/{SAMPLE_KEY}"


class Handle:
    """A local cloud running in a background thread of this process."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.endpoint_url: str = cloud.base_url
        self._thread = threading.Thread(target=cloud.serve_forever, name="localcloud", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.cloud.shutdown()
        self._thread.join(timeout=10)


def start(
    port: int = 4566,
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    reset: bool = False,
    restore_previous: bool = False,
) -> Handle:
    """Start the local cloud on 127.0.0.1:port; AlreadyRunning if one answers there."""
    endpoint = f"http://127.0.0.1:{port}"
    if probe_local_cloud(endpoint):
        raise AlreadyRunning(
            f"a local cloud is already running at {endpoint}",
            hint="use it (resizer status), or stop it with Ctrl-C where it runs",
        )
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    from localcloud import persistence, server

    try:
        cloud = server.start("127.0.0.1", port, data_dir, restore_previous=restore_previous)
    except persistence.StateUnreadable as unreadable:
        raise LocalStateUnreadable(str(unreadable)) from None
    except OSError as exc:
        raise OperationError(
            f"port {port} is busy: {exc.strerror}", hint="choose another with --port or RESIZER_LOCAL_PORT"
        ) from None
    return Handle(cloud)


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
