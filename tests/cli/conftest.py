"""CLI tests run the real Typer app against moto's in-process AWS, in a clean working directory."""

import hashlib
import io
import warnings
import zipfile

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from localcloud import cloudformation
from operations import package


@pytest.fixture
def aws(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "RESIZER_STACK", "RESIZER_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.chdir(tmp_path)
    cloudformation.install()  # the local cloud's CloudFormation fidelity, in process
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with mock_aws():
                yield
    finally:
        cloudformation.uninstall()


@pytest.fixture
def fake_build(monkeypatch, tmp_path):
    """package.build without pip: a small real zip whose handler text the test can change."""
    state = {"code": "def handler(event, context):\n    return {}\n", "builds": []}

    def build(platform, *, cache_dir=None, out_dir=None):
        state["builds"].append(platform)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                zipfile.ZipInfo("resizer_function/handler.py", (1980, 1, 1, 0, 0, 0)), state["code"]
            )
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        path = tmp_path / f"function-{platform}-{digest[:16]}.zip"
        path.write_bytes(data)
        return package.Artifact(path, digest, len(data), platform, 1)

    monkeypatch.setattr(package, "build", build)
    monkeypatch.setattr(
        package,
        "source_digest",
        lambda platform: hashlib.sha256(f"{platform}:{state['code']}".encode()).hexdigest(),
    )
    return state


@pytest.fixture
def runner():
    return CliRunner()
