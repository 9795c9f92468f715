"""Console tests: the real FastAPI app through TestClient, against moto in process with the local
cloud's CloudFormation fidelity (as tests/cli) and a fake package build.

``cloud`` is per package (deploying takes about a second): one moto, one deployed stack named
``resizer`` (with a SigningKey, some images and log lines), torn down after the last console test;
tests that change the world use their own keys or their own stack. Every test gets its own app
and a logged-in ``Browser``; the apps share one Clients per target through the injectable
factory (a new boto3 Session per test would reload the service models every time).
"""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from console.app import ConsoleSettings, create_app
from localcloud import cloudformation
from operations import deploy, package
from operations.aws import Clients, Target
from operations.config import Settings
from tests.conftest import FakeBuild, dummy_aws_env, patched_moto

TOKEN = "console-test-token-3b9f1c"
ACCESS_KEY = "AKIACONSOLETEST00001"
SECRET_KEY = "consoleTestSecretKey/7d6c5b4a39"
SIGNING_KEY = "signing-key-value-5e4d3c2b"
SECRETS = (TOKEN, ACCESS_KEY, SECRET_KEY, SIGNING_KEY)
REGION = "us-east-1"
FUNCTION = "resizer-resize"
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
REQUEST_ID = "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


def png(width: int = 8, height: int = 6, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Cloud:
    """The module's moto world: its folder, the deployed stack's outputs, a boto3 session."""

    folder: Path
    outputs: dict[str, str]
    clients: dict[Target, Clients]

    def clients_for(self, target: Target) -> Clients:
        if target not in self.clients:
            self.clients[target] = Clients.for_target(target)
        return self.clients[target]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    @property
    def bucket(self) -> str:
        return self.outputs["BucketName"]

    @property
    def images_url(self) -> str:
        """Where the stack serves images: its CDN (cdn delivery) or its bucket website."""
        return self.outputs.get("CdnUrl") or self.outputs["WebsiteUrl"]


def log_lines(client: Any, group: str = LOG_GROUP, stream: str = "2026/01/01/[$LATEST]abc") -> None:
    """One request's lines, START..REPORT, with a JSON error line in the middle."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    client.create_log_stream(logGroupName=group, logStreamName=stream)
    messages = [
        f"START RequestId: {REQUEST_ID} Version: $LATEST",
        '{"level": "ERROR", "message": "request", "path": "/300x200/missing.jpg", "status": 500}',
        '{"level": "INFO", "message": "request", "path": "/300x200/cat.png", "status": 302}',
        f"END RequestId: {REQUEST_ID}",
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 80 MB",
    ]
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now - 1000 + i, "message": m} for i, m in enumerate(messages)],
    )


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    folder = tmp_path_factory.mktemp("console")
    with pytest.MonkeyPatch.context() as patch:
        dummy_aws_env(patch, folder, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        patch.setenv("RESIZER_CACHE_DIR", str(folder / "cache"))
        patch.chdir(folder)
        patch.setattr(package, "build", FakeBuild(folder / "builds", code="x = 1\n"))
        with patched_moto(cloudformation, quiet=True):
            yield Cloud(folder, deploy_world(), {})


def deploy_world() -> dict[str, str]:
    clients = Clients(boto3.Session(region_name=REGION))
    # The website delivery: the console links images on the website (cdn links are the console's
    # own change, on the operations side of issue 9).
    parameters = {"SigningKey": SIGNING_KEY, "Delivery": "website"}
    settings = Settings(Target(stack="resizer", region=REGION), parameters)
    planned = deploy.plan(clients, settings, sleep=lambda s: None)
    for _ in deploy.execute(clients, planned, sleep=lambda s: None, poll=0):
        pass
    cfn = clients.client("cloudformation")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="resizer")["Stacks"][0]["Outputs"]
    }
    s3 = clients.client("s3")
    for key in ("photos/cat.png", "160x160,inside/photos/cat.png", "300x200/photos/cat.png"):
        s3.put_object(Bucket=outputs["BucketName"], Key=key, Body=png(), ContentType="image/png")
    log_lines(clients.client("logs"), outputs.get("LogGroupName", LOG_GROUP))
    return outputs


class Browser:
    """A TestClient that logs in like a browser and knows the session's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self) -> "Browser":
        form = self.client.get("/login")
        login_csrf = hidden(form.text, "csrf_token")
        reply = self.client.post(
            "/login", data={"token": TOKEN, "csrf_token": login_csrf, "next": "/"}, follow_redirects=False
        )
        assert reply.status_code == 303, reply.text
        self.csrf = csrf_of(self.client.get("/deploy").text)
        return self

    def page(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers={"accept": "text/html"}, **kwargs)

    def post(self, path: str, data: dict | None = None, *, html: bool = False, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, "accept": "text/html" if html else "application/json"}
        return self.client.post(path, data=data or {}, headers=headers, follow_redirects=False, **kwargs)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def read_events(response: Any, until: str = "settled", limit: int = 500) -> list[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream response, up to the first ``until`` event."""
    events: list[tuple[str, str]] = []
    name, data = "", ""
    for raw in response.iter_lines():
        if raw.startswith("event: "):
            name = raw[7:]
        elif raw.startswith("data: "):
            data = raw[6:]
        elif raw == "" and name:
            events.append((name, data))
            if name == until or len(events) >= limit:
                break
            name, data = "", ""
    return events


def settings_for(cloud: Cloud, **changes: Any) -> ConsoleSettings:
    folder = cloud.folder
    values: dict[str, Any] = {
        "clients_factory": cloud.clients_for,
        "token": TOKEN,
        "secret": b"console-tests-secret-0123456789ab",
        "cwd": folder,
        "events_dir": folder / "events",
        "poll": 0.0,
        "sleep": lambda seconds: None,
    }
    return ConsoleSettings(**(values | changes))


@pytest.fixture
def app(cloud: Cloud, tmp_path: Path) -> Any:
    return create_app(settings_for(cloud, events_dir=tmp_path / "events"))


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def browser(anonymous: TestClient) -> Browser:
    return Browser(anonymous).login()
