"""A local-cloud server process the tests can kill -9, restart, and start with extra settings."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3

from localcloud import contract
from localcloud.process import DidNotStart, free_port, spawn, started

START_TIMEOUT_S = 90


class ServerProcess:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = contract.endpoint(self.port)
        self.env = {**os.environ, **(env or {})}
        self.log = data_dir.parent / f"{data_dir.name}-server.log"
        self.process: subprocess.Popen | None = None

    def start(self, *extra: str, wait: bool = True) -> "ServerProcess":
        argv = [
            sys.executable,
            "-m",
            contract.SERVER_MODULE,
            *contract.server_args(self.port, self.data_dir, *extra),
        ]
        with open(self.log, "ab") as out:
            if not wait:
                self.process = spawn(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env)
                return self
            try:
                self.process = started(
                    argv,
                    lambda _: bool(contract.health(self.url, timeout=0.5)),
                    timeout=START_TIMEOUT_S,
                    every=0.05,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            except DidNotStart as failed:
                self.process = failed.process
                raise RuntimeError(f"the local cloud did not start:\n{self.output()[-3000:]}") from None
        return self

    def wait(self, timeout: float = START_TIMEOUT_S) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """kill -9: no save on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client(self, service: str, **config):
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="localcloud",
            aws_secret_access_key="localcloud",
            config=Config(retries={"max_attempts": 1}, **config),
        )
