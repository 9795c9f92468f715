"""operations.package: deterministic, cached builds of the function's zip, and its upload to S3."""

import hashlib
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from operations import package
from operations.aws import Clients
from operations.errors import ConfigError, NotFound, OperationError, PackagingFailed
from operations.package import Artifact, artifact_bucket_name, build, publish

EM_AARCH64 = 0xB7


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("resizer-cache")


@pytest.fixture(scope="module")
def local(cache_dir: Path) -> tuple[Artifact, Artifact]:
    """Two builds for this interpreter into different folders: the second must not run pip."""
    started = time.perf_counter()
    first = build("local", cache_dir=cache_dir)
    print(f"\nfirst local build: {time.perf_counter() - started:.2f}s, {first.size} bytes")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "run", _no_pip)
        started = time.perf_counter()
        second = build("local", cache_dir=cache_dir, out_dir=cache_dir / "again")
        print(f"second local build: {time.perf_counter() - started:.2f}s")
    return first, second


@pytest.fixture(scope="module")
def arm64(cache_dir: Path) -> Artifact:
    started = time.perf_counter()
    artifact = build("arm64", cache_dir=cache_dir)
    print(f"\narm64 build: {time.perf_counter() - started:.2f}s, {artifact.size} bytes")
    return artifact


def _no_pip(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"pip ran for a cached build: {args}")


def _names(artifact: Artifact) -> list[str]:
    with zipfile.ZipFile(artifact.path) as zf:
        return zf.namelist()


def test_the_same_sources_give_the_same_bytes(local: tuple[Artifact, Artifact]) -> None:
    first, second = local
    assert first.sha256 == second.sha256
    assert first.path != second.path
    assert first.path.read_bytes() == second.path.read_bytes()
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == first.sha256
    assert first.path.name == f"function-local-{first.sha256[:16]}.zip"
    assert first.key == f"functions/{first.sha256}.zip"
    assert first.size == first.path.stat().st_size > 0


def test_the_zip_holds_the_function_and_its_dependencies_only(local: tuple[Artifact, Artifact]) -> None:
    artifact = local[0]
    names = _names(artifact)
    assert names == sorted(names)
    assert len(names) == artifact.files
    for module in ("__init__", "handler", "imaging", "request", "settings", "signing", "errors"):
        assert f"resizer_function/{module}.py" in names
    assert "resizer_function/requirements.txt" not in names
    assert "PIL/Image.py" in names
    assert any(n.startswith("PIL/_imaging.") and n.endswith(".so") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for name in names:
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
        assert "/tests/" not in f"/{name}" and not name.startswith("bin/"), name
        assert name.rsplit("/", 1)[-1] not in {"INSTALLER", "REQUESTED", "direct_url.json"}, name


def test_every_entry_has_fixed_metadata(local: tuple[Artifact, Artifact]) -> None:
    with zipfile.ZipFile(local[0].path) as zf:
        infos = zf.infolist()
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
        assert info.external_attr >> 16 in {0o100644, 0o100755}, info.filename
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    assert modes["resizer_function/handler.py"] == 0o100644


def test_a_cached_build_does_not_run_pip(
    local: tuple[Artifact, Artifact], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subprocess, "run", _no_pip)
    monkeypatch.setenv("RESIZER_CACHE_DIR", str(cache_dir))
    artifact = build("local")
    assert artifact.path == local[0].path
    assert artifact.path.parent == cache_dir / "builds"


def test_arm64_gets_aarch64_pillow(arm64: Artifact, local: tuple[Artifact, Artifact]) -> None:
    assert arm64.path.name.startswith("function-arm64-")
    assert arm64.size == arm64.path.stat().st_size > 0
    assert arm64.sha256 != local[0].sha256
    with zipfile.ZipFile(arm64.path) as zf:
        names = zf.namelist()
        imaging = [n for n in names if n.startswith("PIL/_imaging.") and n.endswith(".so")]
        assert imaging == ["PIL/_imaging.cpython-312-aarch64-linux-gnu.so"]
        header = zf.read(imaging[0])[:20]
        assert zf.getinfo(imaging[0]).external_attr >> 16 == 0o100755
    assert header[:4] == b"\x7fELF" and header[4] == 2 and header[5] == 1  # 64-bit, little-endian
    assert struct.unpack_from("<H", header, 18)[0] == EM_AARCH64
    assert any(n.startswith("pillow.libs/") for n in names)
    assert "resizer_function/handler.py" in names


def test_an_unknown_platform_is_refused(cache_dir: Path) -> None:
    with pytest.raises(ConfigError) as raised:  # a bad argument (exit 2), not a failed build
        build("riscv64", cache_dir=cache_dir)
    assert isinstance(raised.value, OperationError)
    assert "arm64" in raised.value.hint


def test_a_pip_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("resizer-no-such-package-7f3a==0.0.1\n")
    monkeypatch.setattr(package, "REQUIREMENTS", requirements)
    with pytest.raises(PackagingFailed) as raised:
        build("local", cache_dir=tmp_path / "cache")
    assert "pip could not install" in raised.value.message
    assert "resizer-no-such-package-7f3a" in raised.value.message
    assert "package index" in raised.value.hint
    assert "WARNING" not in raised.value.message  # pip's ERROR lines, not its noise
    assert list((tmp_path / "cache" / "deps").iterdir()) == []  # no half-installed cache entry


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_publish_creates_the_bucket_and_uploads_once(aws: None, local: tuple[Artifact, Artifact]) -> None:
    artifact = local[0]
    clients = Clients(boto3.Session(region_name="eu-west-1"))
    first = publish(clients, artifact)
    assert first.bucket == artifact_bucket_name("123456789012", "eu-west-1")
    assert first.bucket == "resizer-artifacts-123456789012-eu-west-1"
    assert (first.key, first.uploaded, first.artifact) == (artifact.key, True, artifact)
    s3 = clients.client("s3")
    assert s3.get_bucket_location(Bucket=first.bucket)["LocationConstraint"] == "eu-west-1"
    block = s3.get_public_access_block(Bucket=first.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    stored = s3.get_object(Bucket=first.bucket, Key=artifact.key)
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == artifact.sha256
    assert stored["Metadata"] == {"sha256": artifact.sha256, "platform": "local"}

    second = publish(clients, artifact)
    assert (second.bucket, second.key, second.uploaded) == (first.bucket, first.key, False)


def test_publish_in_us_east_1_has_no_location_constraint(aws: None, tmp_path: Path) -> None:
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    artifact = Artifact(path=zip_path, sha256=digest, size=22, platform="local", files=0)
    clients = Clients(boto3.Session(region_name="us-east-1"))
    published = publish(clients, artifact)
    assert published.uploaded and published.bucket.endswith("-us-east-1")
    assert clients.client("s3").get_bucket_location(Bucket=published.bucket)["LocationConstraint"] is None


def test_publishing_a_missing_zip_is_refused(aws: None, tmp_path: Path) -> None:
    artifact = Artifact(path=tmp_path / "gone.zip", sha256="0" * 64, size=1, platform="local", files=1)
    with pytest.raises(NotFound):
        publish(Clients(boto3.Session(region_name="eu-west-1")), artifact)
