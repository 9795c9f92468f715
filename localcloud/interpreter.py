"""Which Python runs the local Lambda: Lambda's version (3.12) when this machine has one.

``find`` looks for a working CPython 3.12 in ``RESIZER_LAMBDA_PYTHON``, on PATH, in pyenv's and
uv's version folders (each candidate is run once to check it: pyenv shims, for one, may not
work), and otherwise falls back to this interpreter with a ``warning`` that the CLI and the
REPORT lines carry. ``sdk_dir`` is the runtime's bundled SDK: boto3 and its dependencies (pure
Python) from this environment, linked into a folder the worker puts after the function's code,
as Lambda's runtime puts its boto3 after /var/task.
"""

import functools
import glob
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

LAMBDA_VERSION = "3.12"  # the template's Runtime: python3.12
ENV_OVERRIDE = "RESIZER_LAMBDA_PYTHON"
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
_PROBE = (
    "import json, platform, sys; print(json.dumps([sys.implementation.name, "
    "'%d.%d' % sys.version_info[:2], platform.python_version(), platform.machine(), sys.executable]))"
)


@dataclass(frozen=True)
class Interpreter:
    """A Python that runs functions locally; ``warning`` is set when it is not Lambda's version."""

    path: str
    version: str  # "3.12"
    full_version: str  # "3.12.1"
    machine: str  # "x86_64"
    found_in: str  # "PATH", "pyenv", "uv", "RESIZER_LAMBDA_PYTHON" or "host"
    warning: str = ""

    def describe(self) -> str:
        return f"CPython {self.full_version} on {self.machine} ({self.path})"

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "version": self.version,
            "full_version": self.full_version,
            "machine": self.machine,
            "found_in": self.found_in,
            "warning": self.warning,
        }


def probe(path: str) -> Interpreter | None:
    """Run path once; the Interpreter it is, or None when it does not run as a CPython."""
    try:
        done = subprocess.run([path, "-S", "-c", _PROBE], capture_output=True, text=True, timeout=20)
        name, version, full, machine, executable = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        return None
    if done.returncode != 0 or name != "cpython":
        return None
    return Interpreter(executable or path, version, full, machine, "")


def candidates(environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(where, path) of each place a Python 3.12 may be, in the order they are tried."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    found: list[tuple[str, str]] = []
    if env.get(ENV_OVERRIDE):
        found.append((ENV_OVERRIDE, env[ENV_OVERRIDE]))
    for name in (f"python{LAMBDA_VERSION}", "python3", "python"):
        path = shutil.which(name, path=env.get("PATH", ""))
        if path and "/shims/" not in path:  # pyenv's shims: its versions are looked at below
            found.append(("PATH", path))
    pyenv = Path(env.get("PYENV_ROOT") or home / ".pyenv")
    pattern = str(pyenv / "versions" / f"{LAMBDA_VERSION}*" / "bin" / "python3")
    found += [("pyenv", path) for path in sorted(glob.glob(pattern), reverse=True)]
    uv_root = Path(env.get("UV_PYTHON_INSTALL_DIR") or home / ".local" / "share" / "uv" / "python")
    pattern = str(uv_root / f"cpython-{LAMBDA_VERSION}.*" / "bin" / "python3")
    found += [("uv", path) for path in sorted(glob.glob(pattern), reverse=True)]
    return found


def search(environ: dict[str, str] | None = None) -> Interpreter:
    """The first working CPython 3.12 among the candidates, else this one with a warning."""
    seen: set[str] = set()
    for where, path in candidates(environ):
        if path in seen:
            continue
        seen.add(path)
        found = probe(path)
        if found and (found.version == LAMBDA_VERSION or where == ENV_OVERRIDE):
            same = found.version == LAMBDA_VERSION
            warning = "" if same else _warning(found.full_version, f"{ENV_OVERRIDE} is not 3.12")
            return Interpreter(found.path, found.version, found.full_version, found.machine, where, warning)
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    why = "no Python 3.12 was found"
    warning = "" if host == LAMBDA_VERSION else _warning(platform.python_version(), why)
    return Interpreter(sys.executable, host, platform.python_version(), platform.machine(), "host", warning)


def _warning(version: str, why: str) -> str:
    return (
        f"functions run under Python {version}, not Lambda's python{LAMBDA_VERSION} ({why}); "
        f"install it (uv python install {LAMBDA_VERSION}, or pyenv install {LAMBDA_VERSION}) "
        f"or set {ENV_OVERRIDE} to one"
    )


@functools.cache
def find() -> Interpreter:
    """The interpreter of this process's local Lambda (searched once)."""
    return search()


def cache_root() -> Path:
    """Where the runtime's SDK links and bytecode are kept (shared by local clouds, like the zips)."""
    return Path(os.environ.get("RESIZER_CACHE_DIR") or Path.home() / ".cache" / "resizer") / "lambda-runtime"


def sdk_dir(root: Path) -> Path:
    """A folder with links to this environment's boto3 and its dependencies (made once). Named by
    where they are too: the cache is shared by every checkout and virtual environment, and links
    into one that was removed would leave the functions without boto3."""
    import boto3

    home = str(Path(boto3.__file__).resolve().parent.parent)
    target = root / f"sdk-boto3-{boto3.__version__}-{hashlib.sha256(home.encode()).hexdigest()[:12]}"
    if target.is_dir():
        return target
    staging = root / f".sdk-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    for name in SDK_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (staging / source.name).symlink_to(source)
    try:
        staging.rename(target)
    except OSError:  # made concurrently by another worker's start
        shutil.rmtree(staging, ignore_errors=True)
    return target


def prepare(python: Interpreter, root: Path | None = None) -> tuple[Path, Path]:
    """(SDK folder, bytecode cache) for python; the SDK's import path compiled once, as Lambda's
    runtime ships it compiled (else every first worker compiles botocore, seconds on a busy CPU)."""
    root = root or cache_root()
    sdk = sdk_dir(root)
    pycache = root / f"pycache-{python.full_version}-{python.machine}"
    marker = pycache / f".warm-{sdk.name}"
    if not marker.exists():
        warm = f"import sys; sys.path.insert(0, {str(sdk)!r}); import boto3, botocore.session, s3transfer"
        command = [python.path, "-S", "-P", "-X", f"pycache_prefix={pycache}", "-c", warm]
        try:
            if subprocess.run(command, capture_output=True, timeout=300).returncode == 0:
                marker.touch()
        except (OSError, subprocess.SubprocessError):
            pass  # workers compile what they import
    return sdk, pycache
