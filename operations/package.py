"""Package the resize function: build its deployment zip and publish it to the artifacts bucket.

``build`` installs ``resizer_function/requirements.txt`` for one platform (a Lambda architecture,
or this interpreter for the local cloud) into a cache keyed by the requirements, the platform and
the Python version, so pip runs once per change; then it writes a deterministic zip (sorted
entries, fixed timestamps and permissions): the same sources give the same bytes, so the
sha256 names the artifact. ``publish`` uploads it once to ``resizer-artifacts-<account>-<region>``
under ``functions/<sha256>.zip``.

That bucket's name is predictable, so every call on it names the expected owner
(``ExpectedBucketOwner``: S3 answers 403 when another account owns it); it blocks public access,
and a lifecycle rule expires the zips a deploy marked superseded (``supersede``) after
SUPERSEDED_DAYS. ``source_digest`` names the code a build would produce without building it.
"""

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import resizer_function
from operations.aws import Clients, translated
from operations.errors import AccessDenied, ConfigError, NotFound, PackagingFailed

FUNCTION_DIR = Path(resizer_function.__file__).parent
REQUIREMENTS = FUNCTION_DIR / "requirements.txt"
LAMBDA_PYTHON = "3.12"
LAMBDA_GLIBC_MINOR = 34  # Amazon Linux 2023, the OS of the python3.12 runtime, has glibc 2.34


def _lambda_pip_args(arch: str) -> tuple[str, ...]:
    # pip does not widen --platform manylinux_2_X to older glibc versions: list each one, newest first.
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(LAMBDA_GLIBC_MINOR, 16, -1)]
    platforms = [arg for tag in [*tags, f"manylinux2014_{arch}"] for arg in ("--platform", tag)]
    return (*platforms, "--implementation", "cp", "--python-version", LAMBDA_PYTHON)


# Platform name -> the pip arguments that select its wheels (always with --only-binary=:all:).
PLATFORMS: dict[str, tuple[str, ...]] = {
    "arm64": _lambda_pip_args("aarch64"),
    "x86_64": _lambda_pip_args("x86_64"),
    "local": (),
}

# The AWS services whose SDK models go into the zip (botocore's data for all of them is 28 MB): the
# function calls S3; SSM and STS are kept for reading parameters and credentials. A client for any
# other service raises UnknownServiceError in the function: add it here first.
FUNCTION_AWS_SERVICES = frozenset({"s3", "ssm", "sts"})
_SDK_DATA = {("botocore", "data"), ("boto3", "data")}

_EPOCH = (1980, 1, 1, 0, 0, 0)
_DROPPED_METADATA = {"INSTALLER", "REQUESTED", "direct_url.json"}


@dataclass(frozen=True)
class Artifact:
    """A built function zip."""

    path: Path
    sha256: str
    size: int
    platform: str
    files: int

    @property
    def key(self) -> str:
        return f"functions/{self.sha256}.zip"


@dataclass(frozen=True)
class Published:
    """Where an artifact is in S3; ``uploaded`` is False when it was already there."""

    bucket: str
    key: str
    uploaded: bool
    artifact: Artifact
    present: bool = True  # False: not in the bucket yet (a plan uploads it only when executed)


def build(platform: str, *, cache_dir: Path | None = None, out_dir: Path | None = None) -> Artifact:
    """Build (or rebuild byte for byte) the function's zip for ``platform``, one of PLATFORMS."""
    if platform not in PLATFORMS:
        raise ConfigError(f"unknown platform {platform!r}", hint=f"use one of: {', '.join(PLATFORMS)}")
    cache = cache_dir or Path(os.environ.get("RESIZER_CACHE_DIR") or Path.home() / ".cache" / "resizer")
    out = out_dir or cache / "builds"
    try:
        deps = _dependencies(platform, cache / "deps")
        # The zip is a function of the sources and the installed dependencies: when both are those
        # of a zip already written here, that zip is the answer (writing 30 MB again takes seconds).
        index = out / f".built-{platform}-{source_digest(platform)[:24]}-{deps.name}"
        with contextlib.suppress(OSError, ValueError):
            sha256, count = index.read_text().split()
            path = out / f"function-{platform}-{sha256[:16]}.zip"
            return Artifact(
                path=path, sha256=sha256, size=path.stat().st_size, platform=platform, files=int(count)
            )
        files = {f"resizer_function/{p.name}": p for p in FUNCTION_DIR.glob("*.py")}
        files |= {
            rel.as_posix(): p
            for p in deps.rglob("*")
            if p.is_file() and _wanted(rel := PurePosixPath(p.relative_to(deps)))
        }
        path, sha256 = _write_zip(files, platform, out)
        index.write_text(f"{sha256} {len(files)}\n")
    except OSError as exc:
        raise PackagingFailed(f"cannot build the function's zip: {exc}") from None
    return Artifact(path=path, sha256=sha256, size=path.stat().st_size, platform=platform, files=len(files))


def _write_zip(files: dict[str, Path], platform: str, out: Path) -> tuple[Path, str]:
    """Write the entries in name order, with fixed metadata, to a temp file renamed to its hash."""
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out, prefix=".function-", suffix=".zip")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            for name in sorted(files):
                _add(zf, name, files[name])
        sha256 = hashlib.sha256(tmp.read_bytes()).hexdigest()
        path = out / f"function-{platform}-{sha256[:16]}.zip"
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, sha256


def _local_python() -> str:
    """The Python version the local cloud runs functions under ("3.12" when the machine has it)."""
    from localcloud import interpreter

    return interpreter.find().version


def _python_tag(platform: str) -> str:
    if platform == "local":
        return f"cp{_local_python().replace('.', '')}-{sysconfig.get_platform()}"
    return "cp" + LAMBDA_PYTHON.replace(".", "")


def _dependencies(platform: str, root: Path) -> Path:
    """The requirements installed for the platform: from the cache, or by pip into it, atomically."""
    requirements = REQUIREMENTS.read_text()  # an OSError here becomes PackagingFailed in build()
    compiler = _bytecode_compiler(platform)
    parts = [requirements, platform, _python_tag(platform), f"bytecode:{bool(compiler)}"]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    target = root / f"{platform}-{key[:16]}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{platform}-"))
    try:
        _pip_install(platform, staging)
        if compiler:
            _compile_bytecode(compiler, staging)
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # else another build renamed its copy first, and that one will do
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _bytecode_compiler(platform: str) -> str | None:
    """An interpreter of the platform's Python version, to precompile the dependencies; else None.

    Lambda's /var/task is read-only, so modules shipped without bytecode (the AWS SDK: a few
    hundred) are compiled again on every cold start; the runtime's bundled SDK is precompiled.
    The local cloud's interpreter (localcloud.interpreter: PATH, pyenv, uv) is the one to use for
    `local`, and for Lambda's platforms when it is Lambda's version.
    """
    from localcloud import interpreter

    local = interpreter.find()
    if platform == "local":
        return local.path
    if local.version == LAMBDA_PYTHON:
        return local.path
    found = shutil.which(f"python{LAMBDA_PYTHON}")
    if not found:
        return None
    try:
        said = subprocess.run(
            [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if said == LAMBDA_PYTHON else None


def _compile_bytecode(python: str, target: Path) -> None:
    """Unchecked-hash .pyc files (PEP 552): loaded without looking at the sources' timestamps."""
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    try:
        result = subprocess.run([*command, str(target)], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackagingFailed(f"could not precompile the dependencies: {exc}") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise PackagingFailed(f"could not precompile the dependencies with {python}:\n{tail}")


def _pip_install(platform: str, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--target", str(target), "--no-compile"]
    command += ["--disable-pip-version-check", "--quiet", "--only-binary=:all:", *PLATFORMS[platform]]
    if platform == "local":  # this machine's wheels, for the interpreter that runs the local Lambda
        command += ["--python-version", _local_python()]
    command += ["--requirement", str(REQUIREMENTS)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackagingFailed(f"pip could not run: {exc}") from None
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("ERROR")]
        tail = "\n".join((errors or lines)[-5:]) or f"exit status {result.returncode}"
        raise PackagingFailed(
            f"pip could not install {REQUIREMENTS.name} for {platform}:\n{tail}",
            hint="check access to the package index, and that every requirement has a wheel for "
            + ("this Python" if platform == "local" else f"Lambda python{LAMBDA_PYTHON} on {platform}"),
        )


def _wanted(rel: PurePosixPath) -> bool:
    parts = rel.parts
    if parts[0] == "bin" or "tests" in parts:
        return False
    if "__pycache__" in parts or rel.suffix == ".pyc":  # only the precompiled (unchecked-hash) ones
        return len(parts) > 1 and parts[-2] == "__pycache__" and ".opt-" not in rel.name
    if len(parts) > 3 and tuple(parts[:2]) in _SDK_DATA and parts[2] not in FUNCTION_AWS_SERVICES:
        return False
    return not (len(parts) == 2 and parts[0].endswith(".dist-info") and rel.name in _DROPPED_METADATA)


def _add(zf: zipfile.ZipFile, name: str, path: Path) -> None:
    mode = path.stat().st_mode
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix, so that external_attr holds the permissions
    info.external_attr = (stat.S_IFREG | (0o755 if mode & 0o111 else 0o644)) << 16
    zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)


def artifact_bucket_name(account_id: str, region: str) -> str:
    return f"resizer-artifacts-{account_id}-{region}"


def source_digest(platform: str) -> str:
    """What a build for ``platform`` would contain, without building: the function's sources, its
    requirements, the platform and the packaging code itself."""
    if platform not in PLATFORMS:
        raise ConfigError(f"unknown platform {platform!r}", hint=f"use one of: {', '.join(PLATFORMS)}")
    digest = hashlib.sha256(f"{platform}\0{_python_tag(platform)}\0".encode())
    try:
        for path in [REQUIREMENTS, Path(__file__), *sorted(FUNCTION_DIR.glob("*.py"))]:
            digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    except OSError as exc:
        raise PackagingFailed(f"cannot read the function's sources: {exc}") from None
    return digest.hexdigest()


SUPERSEDED_TAG = "resizer:superseded"
SUPERSEDED_DAYS = 30


def _owner(clients: Clients) -> tuple[str, str, str]:
    account = clients.account_id()
    return artifact_bucket_name(account, clients.region), account, clients.region


@translated
def stage(clients: Clients, artifact: Artifact) -> Published:
    """Where the artifact goes, and whether it is there already; reads only (nothing is created)."""
    if not artifact.path.is_file():
        raise NotFound(f"no such artifact: {artifact.path}", hint="build it again")
    s3 = clients.client("s3")
    bucket, account, _ = _owner(clients)
    there = _bucket_exists(s3, bucket, account) and _exists(
        lambda: s3.head_object(Bucket=bucket, Key=artifact.key, ExpectedBucketOwner=account)
    )
    return Published(bucket, artifact.key, uploaded=False, artifact=artifact, present=there)


@translated
def publish(clients: Clients, artifact: Artifact) -> Published:
    """Upload the artifact to the artifacts bucket (created if missing) unless it is already there."""
    staged = stage(clients, artifact)
    s3 = clients.client("s3")
    bucket, account, region = _owner(clients)
    if not _bucket_exists(s3, bucket, account):
        _create_bucket(s3, bucket, region, account)
    key = artifact.key
    if staged.present or _exists(lambda: s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=account)):
        # Deployed again: no longer superseded (the lifecycle rule must not expire it).
        s3.delete_object_tagging(Bucket=bucket, Key=key, ExpectedBucketOwner=account)
        return Published(bucket, key, uploaded=False, artifact=artifact, present=True)
    metadata = {"sha256": artifact.sha256, "platform": artifact.platform}
    with artifact.path.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/zip",
            Metadata=metadata,
            ExpectedBucketOwner=account,
        )
    return Published(bucket, key, uploaded=True, artifact=artifact, present=True)


@translated
def supersede(clients: Clients, bucket: str, key: str) -> None:
    """Mark a zip no stack runs any more, so the lifecycle rule expires it after SUPERSEDED_DAYS."""
    s3 = clients.client("s3")
    _, account, _ = _owner(clients)
    if _exists(lambda: s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=account)):
        s3.put_object_tagging(
            Bucket=bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": SUPERSEDED_TAG, "Value": "true"}]},
            ExpectedBucketOwner=account,
        )


def _bucket_exists(s3: Any, bucket: str, account: str) -> bool:
    return _exists(lambda: s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account))


def _exists(head: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        head()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}:
            return False
        if exc.response.get("Error", {}).get("Code") in {"403", "AccessDenied"}:
            raise AccessDenied(
                "the artifacts bucket or its object belongs to another AWS account, or you may not read it",
                hint="S3 bucket names are global: whoever created it first owns it; check its owner",
            ) from None
        raise
    return True


LIFECYCLE = {
    "Rules": [
        {
            "ID": "expire-superseded-function-zips",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "functions/", "Tags": [{"Key": SUPERSEDED_TAG, "Value": "true"}]}},
            "Expiration": {"Days": SUPERSEDED_DAYS},
        },
        {
            "ID": "abort-incomplete-uploads-and-old-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": SUPERSEDED_DAYS},
        },
    ]
}


def _create_bucket(s3: Any, bucket: str, region: str, account: str) -> None:
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **config)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    except s3.exceptions.BucketAlreadyExists:
        raise AccessDenied(
            f"the artifacts bucket {bucket} already exists in another AWS account",
            hint="someone else created it first; deploy cannot publish the code there",
        ) from None
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            name: True
            for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
        ExpectedBucketOwner=account,
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration=LIFECYCLE, ExpectedBucketOwner=account
    )
