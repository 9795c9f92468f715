"""Fixtures every test folder shares: dummy AWS credentials, moto (plain or with the local cloud's
patches), a Clients on it, a fake package.build, cfn-lint once per template, and the decompression
bomb (made once a session).

Nothing here is autouse: a test asks for what it needs. ``dummy_aws_env`` and ``patched_moto`` are
the plain functions behind the fixtures, for package- and module-scoped worlds (tests/console,
tests/cli) that cannot use the function-scoped ``monkeypatch``; ``no_aws_env`` is the environment
of the processes the tests start as a user would.
"""

import contextlib
import hashlib
import io
import os
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from operations import package
from operations.aws import Clients

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_SESSION_TOKEN",
    "RESIZER_STACK",
    "RESIZER_DEBUG",
)


def dummy_aws_env(
    patch: pytest.MonkeyPatch,
    folder: Path,
    *,
    region: str = REGION,
    access_key: str = "testing",
    secret_key: str = "testing",
) -> None:
    """Dummy credentials in ``region``; no profile, endpoint, config file or metadata of this machine."""
    for name in CLEARED:
        patch.delenv(name, raising=False)
    patch.setenv("AWS_ACCESS_KEY_ID", access_key)
    patch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)
    patch.setenv("AWS_DEFAULT_REGION", region)
    patch.setenv("AWS_CONFIG_FILE", str(folder / "no-aws-config"))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "no-aws-credentials"))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def no_aws_env(cache: Path) -> dict[str, str]:
    """The environment of a process the tests start as a user with no AWS settings would (``resizer``,
    the console): this one's without any AWS_ or RESIZER_ variable, no AWS config or credentials file,
    no instance metadata, and ``cache`` as the package cache."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESIZER_"))}
    return kept | {
        "RESIZER_CACHE_DIR": str(cache),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def patched_moto(*patches: ModuleType, quiet: bool = False) -> Iterator[None]:
    """moto in process with the given local-cloud patch modules installed (each has install/uninstall),
    uninstalled afterwards so the rest of the suite sees plain moto. ``quiet`` ignores moto's
    UserWarnings about the template resources it skips."""
    installed: list[ModuleType] = []
    try:
        for module in patches:
            module.install()
            installed.append(module)
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", UserWarning)
            with mock_aws():
                yield
    finally:
        for module in reversed(installed):
            module.uninstall()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials in us-east-1 and no profile, endpoint or config file of this machine."""
    dummy_aws_env(monkeypatch, tmp_path)


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    """Plain moto in process."""
    with mock_aws():
        yield


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """moto with the local cloud's CloudFormation fidelity, run from a clean working directory (as
    the CLI is): the world of tests/cli and of the CloudFormation tests."""
    from localcloud import cloudformation

    monkeypatch.chdir(tmp_path)
    with patched_moto(cloudformation, quiet=True):
        yield


@pytest.fixture
def clients(moto: None) -> Clients:
    return Clients(boto3.Session(region_name=REGION))


@dataclass
class FakeBuild:
    """Stands in for package.build: a small real zip whose handler.py holds ``code``; ``calls`` lists
    the platforms built."""

    out: Path
    code: str = "def handler(event, context):\n    return {'statusCode': 200}\n"
    calls: list[str] = field(default_factory=list)

    def __call__(
        self, platform: str, *, cache_dir: Path | None = None, out_dir: Path | None = None
    ) -> package.Artifact:
        self.calls.append(platform)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr(zipfile.ZipInfo("resizer_function/__init__.py", (1980, 1, 1, 0, 0, 0)), "")
            zf.writestr(zipfile.ZipInfo("resizer_function/handler.py", (1980, 1, 1, 0, 0, 0)), self.code)
        data = buffer.getvalue()
        sha256 = hashlib.sha256(data).hexdigest()
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"function-{platform}-{sha256[:16]}.zip"
        path.write_bytes(data)
        return package.Artifact(path=path, sha256=sha256, size=len(data), platform=platform, files=2)

    def digest(self, platform: str) -> str:
        """Stands in for package.source_digest: what the build would hold, without building."""
        return hashlib.sha256(f"{platform}:{self.code}".encode()).hexdigest()

    def install(self, patch: pytest.MonkeyPatch) -> "FakeBuild":
        patch.setattr(package, "build", self)
        patch.setattr(package, "source_digest", self.digest)
        return self


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeBuild:
    """package.build and package.source_digest without pip: see FakeBuild."""
    return FakeBuild(tmp_path / "builds").install(monkeypatch)


_LINTED: set[tuple[str, str]] = set()


def lint_once(patch: pytest.MonkeyPatch) -> None:
    """template.lint runs the real cfn-lint once per (template, region) in the session (it takes about
    a CPU second each time; a template that passed once passes again)."""
    from operations import template

    real = template.lint

    def lint(body: str, region: str) -> None:
        if (body, region) not in _LINTED:
            real(body, region)
            _LINTED.add((body, region))

    patch.setattr(template, "lint", lint)


@pytest.fixture
def fast_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    lint_once(monkeypatch)


@pytest.fixture(scope="session")
def decompression_bomb() -> bytes:
    """A real 20000 x 20000 grey PNG (400 MP) that compresses to a few hundred KB; made once a session
    (it takes seconds to encode)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares width x height (a decompression bomb's shape, no pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    pixels = zlib.compress(b"\0" * 64)
    # A whole file (IEND too), so Image.verify passes and only the declared size can refuse it.
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def declared_png() -> Callable[[int, int], bytes]:
    """png_declaring, for tests that would otherwise copy it."""
    return png_declaring
