"""operations.package: deterministic, cached builds of the function's zip, and its upload to S3."""

import hashlib
import json
import os
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from localcloud import interpreter
from operations import package
from operations.aws import Clients
from operations.errors import ConfigError, NotFound, OperationError, PackagingFailed
from operations.package import Artifact, artifact_bucket_name, build, publish
from tests.conftest import dummy_aws_env

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
    for module in (
        "__init__",
        "handler",
        "imaging",
        "jpeg_scaled",
        "request",
        "settings",
        "signing",
        "errors",
    ):
        assert f"resizer_function/{module}.py" in names
    assert "resizer_function/requirements.txt" not in names
    assert "PIL/Image.py" in names
    assert any(n.startswith("PIL/_imaging.") and n.endswith(".so") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    tag = "cpython-" + interpreter.find().version.replace(".", "")  # the local zip's interpreter
    for name in names:
        if "__pycache__" in name or name.endswith(".pyc"):  # the dependencies' precompiled bytecode
            assert name.endswith(f".{tag}.pyc") and name.split("/")[-2] == "__pycache__", name
            assert not name.startswith("resizer_function/"), name
        assert "/tests/" not in f"/{name}" and not name.startswith("bin/"), name
        assert name.rsplit("/", 1)[-1] not in {"INSTALLER", "REQUESTED", "direct_url.json"}, name


def test_the_zip_carries_its_own_pinned_sdk_with_only_the_services_it_calls(
    local: tuple[Artifact, Artifact], tmp_path: Path
) -> None:
    """The function must not depend on the runtime's bundled boto3 (IfNoneMatch needs botocore >=
    1.35.2): the zip has a pinned one, precompiled, with the models of FUNCTION_AWS_SERVICES only."""
    names = _names(local[0])
    assert "botocore/data/s3/2006-03-01/service-2.json.gz" in names
    assert "botocore/data/endpoints.json" in names
    assert not any(n.startswith("botocore/data/ec2/") for n in names)
    assert any(n.startswith("boto3/__pycache__/__init__.cpython-") for n in names)
    pinned = dict(line.split("==") for line in package.REQUIREMENTS.read_text().splitlines() if "==" in line)
    assert pinned["boto3"] and pinned["botocore"]
    with zipfile.ZipFile(local[0].path) as zf:
        zf.extractall(tmp_path / "task")
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "import json, botocore, botocore.exceptions, resizer_function.handler as h\n"
        "h.s3_client()\n"
        "try:\n    h.boto3.client('ec2')\n"
        "except botocore.exceptions.UnknownServiceError:\n    ec2 = 'unknown'\n"
        "print(json.dumps([botocore.__version__, botocore.__file__, ec2]))\n"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    python = interpreter.find().path  # the interpreter whose wheels the local zip carries
    done = subprocess.run(  # -S: no site-packages, only the zip (and the standard library); -B: read-only
        [python, "-S", "-B", "-c", probe, str(tmp_path / "task")],
        env={**env, "BUCKET": "b", "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    version, where, ec2 = json.loads(done.stdout)
    assert version == pinned["botocore"]
    assert tuple(int(p) for p in version.split(".")) >= (1, 35, 2)
    assert where.startswith(str(tmp_path / "task"))
    assert ec2 == "unknown"


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


def test_a_rebuild_of_unchanged_sources_reuses_the_zip(
    local: tuple[Artifact, Artifact], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing the 30 MB zip again takes seconds: unchanged sources and dependencies reuse it."""
    before = local[0].path.stat().st_mtime_ns
    monkeypatch.setattr(package, "_write_zip", lambda *args: pytest.fail("the zip was written again"))
    again = build("local", cache_dir=cache_dir)
    assert again == local[0]
    assert again.path.stat().st_mtime_ns == before


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
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """moto in eu-west-1, with a session token (temporary credentials, as from SSO)."""
    dummy_aws_env(monkeypatch, tmp_path, region="eu-west-1")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
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


def _tiny_artifact(
    tmp_path: Path, name: str = "function.zip", body: bytes = b"PK\x05\x06" + b"\0" * 18
) -> Artifact:
    path = tmp_path / name
    path.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    return Artifact(path=path, sha256=digest, size=len(body), platform="arm64", files=0)


def _recorded_calls(clients: Clients) -> list[tuple[str, dict]]:
    """Every S3 call's operation name and parameters, as sent."""
    calls: list[tuple[str, dict]] = []
    s3 = clients.client("s3")
    s3.meta.events.register(
        "provide-client-params.s3.*",
        lambda params, model, **_: calls.append((model.name, dict(params))),
    )
    return calls


def test_every_call_on_the_artifacts_bucket_names_its_expected_owner(aws: None, tmp_path: Path) -> None:
    """The bucket's name is predictable: anyone could create it first. S3 refuses (403) a call whose
    ExpectedBucketOwner is not the bucket's owner, so each call must carry it."""
    clients = Clients(boto3.Session(region_name="eu-west-1"))
    calls = _recorded_calls(clients)
    artifact = _tiny_artifact(tmp_path)

    publish(clients, artifact)
    publish(clients, artifact)
    package.supersede(clients, artifact_bucket_name("123456789012", "eu-west-1"), artifact.key)

    operations = {name for name, _ in calls}
    assert {
        "HeadBucket",
        "CreateBucket",
        "PutPublicAccessBlock",
        "PutBucketLifecycleConfiguration",
    } <= operations
    assert {"HeadObject", "PutObject", "DeleteObjectTagging", "PutObjectTagging"} <= operations
    for name, params in calls:
        if name != "CreateBucket":  # CreateBucket has no such parameter: BucketAlreadyExists says it
            assert params.get("ExpectedBucketOwner") == "123456789012", name


def test_the_artifacts_bucket_expires_superseded_zips_only(aws: None, tmp_path: Path) -> None:
    clients = Clients(boto3.Session(region_name="eu-west-1"))
    published = publish(clients, _tiny_artifact(tmp_path))
    s3 = clients.client("s3")

    rules = s3.get_bucket_lifecycle_configuration(Bucket=published.bucket)["Rules"]

    superseded = next(r for r in rules if r["ID"] == "expire-superseded-function-zips")
    assert superseded["Expiration"] == {"Days": package.SUPERSEDED_DAYS}
    assert superseded["Filter"]["And"]["Prefix"] == "functions/"
    assert superseded["Filter"]["And"]["Tags"] == [{"Key": "resizer:superseded", "Value": "true"}]
    # A zip is marked when a deploy replaced it, and unmarked when it is deployed again.
    package.supersede(clients, published.bucket, published.key)
    assert s3.get_object_tagging(Bucket=published.bucket, Key=published.key)["TagSet"] == [
        {"Key": "resizer:superseded", "Value": "true"}
    ]
    publish(clients, published.artifact)
    assert s3.get_object_tagging(Bucket=published.bucket, Key=published.key)["TagSet"] == []


def test_staging_reads_only(aws: None, tmp_path: Path) -> None:
    """A plan stages the zip (where it would go, whether it is there) without creating anything."""
    clients = Clients(boto3.Session(region_name="eu-west-1"))
    artifact = _tiny_artifact(tmp_path)

    staged = package.stage(clients, artifact)

    assert not staged.present and not staged.uploaded
    assert staged.key == artifact.key
    assert clients.client("s3").list_buckets()["Buckets"] == []
    publish(clients, artifact)
    assert package.stage(clients, artifact).present


def test_an_artifacts_bucket_owned_by_another_account_is_refused(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 answers 403 to HeadBucket with a wrong ExpectedBucketOwner; publish must stop there."""
    from botocore.stub import Stubber

    clients = Clients(boto3.Session(region_name="eu-west-1"))
    monkeypatch.setattr(clients, "account_id", lambda: "123456789012")
    s3 = clients.client("s3")
    with Stubber(s3) as stubber:
        stubber.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
        with pytest.raises(package.AccessDenied) as raised:
            publish(clients, _tiny_artifact(tmp_path))
        stubber.assert_no_pending_responses()
    assert "another AWS account" in raised.value.message
