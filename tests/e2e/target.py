"""Where the end-to-end tests run: the local cloud (``make test``) or a real AWS account (``make test-aws``).

``RESIZER_TEST_TARGET`` chooses (``local``, the default, or ``aws``); on AWS the usual credential
chain applies, with ``AWS_PROFILE``/``AWS_REGION`` (or ``RESIZER_TEST_PROFILE``/``RESIZER_TEST_REGION``).
A ``Cloud`` gives a test what differs between the two: a Clients factory, the ``resizer`` command
aimed at the endpoint, how long to wait for eventually consistent things (CloudFront, logs,
metrics), and deploy/destroy of a throwaway stack with a unique name.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from operations import destroy
from operations.aws import Clients, Target
from operations.errors import OperationError

RESIZER = [sys.executable, "-c", "from cli.app import main; main()"]
T = TypeVar("T")


def chosen() -> str:
    """The target the run asks for: ``local`` or ``aws``."""
    name = os.environ.get("RESIZER_TEST_TARGET", "local").strip().lower() or "local"
    if name not in ("local", "aws"):
        raise SystemExit(f"RESIZER_TEST_TARGET must be local or aws, not {name!r}")
    return name


def aws_target(stack: str) -> Target:
    profile = os.environ.get("RESIZER_TEST_PROFILE") or os.environ.get("AWS_PROFILE") or None
    region = os.environ.get("RESIZER_TEST_REGION") or os.environ.get("AWS_REGION") or None
    return Target(stack=stack, region=region or os.environ.get("AWS_DEFAULT_REGION") or None, profile=profile)


def no_aws_credentials() -> str:
    """Why the AWS run cannot start ('' when it can): the credential chain and region checks the
    ``resizer`` command makes (Clients.for_target), then one STS call."""
    try:
        clients = Clients.for_target(aws_target("resizer"))
        if clients.defaulted_to_local:  # resizer would fall back to the local cloud: not this run
            return "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        clients.account_id()
    except OperationError as exc:
        return exc.message  # the hints speak to resizer's users (--region, resizer up), not to this run
    return ""


def unique_stack() -> str:
    """A throwaway stack's name: never one a user has (``resizer-e2e-`` and 8 random hex digits)."""
    return f"resizer-e2e-{uuid.uuid4().hex[:8]}"


@dataclass
class Cloud:
    """One target with one throwaway stack: how to reach it and how long to wait for it."""

    name: str  # local or aws
    target: Target
    clients: Clients
    cwd: Path
    env: dict[str, str]
    delivery: str
    patience: float  # seconds to wait for what is eventually consistent (CDN, logs, metrics)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return self.target.stack

    @property
    def images_url(self) -> str:
        return self.outputs.get("CdnUrl") or self.outputs["WebsiteUrl"]

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    def argv(self) -> list[str]:
        """The target options every ``resizer`` command of the tests gets."""
        args = ["--stack", self.stack]
        if self.target.endpoint_url:
            args += ["--endpoint-url", self.target.endpoint_url]
        if self.target.region:
            args += ["--region", self.target.region]
        if self.target.profile:
            args += ["--profile", self.target.profile]
        return args

    def resizer(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """``resizer <args> <target options>`` as a user runs it (a process, real pipes)."""
        return subprocess.run(
            [*RESIZER, *args, *self.argv()],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def resizer_json(self, *args: str, timeout: float = 900) -> Any:
        result = self.resizer(*args, "-o", "json", timeout=timeout)
        assert result.returncode == 0, f"resizer {' '.join(args)}: {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout)

    def deploy(self) -> dict[str, str]:
        """``resizer deploy --yes`` of the throwaway stack; its outputs."""
        result = self.resizer("deploy", "--yes", "-p", f"Delivery={self.delivery}", timeout=3600)
        assert result.returncode == 0, (
            f"deploy failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
        from operations import stack

        self.outputs = stack.outputs(stack.require(self.client("cloudformation"), self.stack))
        return self.outputs

    def teardown(self) -> list[str]:
        """Whatever the tests left: the stack (if any), then its retained images bucket. What it removed."""
        from botocore.exceptions import ClientError

        from operations import stack

        removed: list[str] = []
        cfn = self.client("cloudformation")
        described = stack.describe(cfn, self.stack)
        bucket = self.outputs.get("BucketName", "")
        if described is not None and described["StackStatus"] != "DELETE_COMPLETE":
            self.wait(lambda: stack.settled(stack.describe(cfn, self.stack)["StackStatus"]) or None, 3600)
            planned = destroy.plan(self.clients, self.stack, delete_images=True)
            bucket = planned.bucket or bucket
            for event in destroy.destroy(self.clients, planned, poll=2 if self.name == "local" else 10):
                if isinstance(event, destroy.Removed):
                    removed.append(event.what)
            removed.append(f"stack {self.stack}")
        if bucket:  # DeletionPolicy Retain keeps it when the stack goes: a throwaway stack's must go too
            s3 = self.client("s3")
            try:
                s3.head_bucket(Bucket=bucket)
            except ClientError:
                return removed
            destroy.empty_bucket(s3, bucket)
            s3.delete_bucket(Bucket=bucket)
            removed.append(f"bucket {bucket}")
        return removed

    def wait(self, probe: Callable[[], T | None], patience: float | None = None, every: float = 2.0) -> T:
        """The first truthy answer of ``probe``; AssertionError with the last answer after ``patience`` s."""
        deadline = time.monotonic() + (self.patience if patience is None else patience)
        last: Any = None
        while True:
            try:
                last = probe()
            except (OSError, AssertionError, OperationError) as exc:  # not there yet
                last = exc
            if last and not isinstance(last, Exception):
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"still not so after waiting: last answer {last!r}")
            time.sleep(every)


def fetch(url: str, timeout: float = 60) -> tuple[int, Any, bytes]:
    """GET following redirects (as a browser does): status, headers, body."""
    request = urllib.request.Request(url, headers={"User-Agent": "resizer-e2e"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


if __name__ == "__main__":  # make test-aws: print why the run cannot start on AWS, or nothing
    print(no_aws_credentials())
