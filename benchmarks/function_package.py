"""The function's zip with and without its own AWS SDK: size, unzip time and cold-start import cost.

Builds the zip of this checkout and, with ``--source DIR`` (a checkout whose zip has no SDK, such
as a ``git worktree`` of an older commit), that one's, for ``--platform`` (default: this
machine's, so that they can be imported here). For each, interleaved, ``--runs`` times:

  unzip    extracting the zip into an empty folder (what a cold start does first, per code version)
  import   a fresh ``python -S -B`` (stdlib only; no bytecode written, as /var/task is read-only
           on Lambda, so every module of the zip is compiled on each cold start) importing
           ``resizer_function.handler`` from the extracted folder, then creating its S3 client:
           the Init work of a cold start. The zip without an SDK gets this environment's boto3
           (compiled, as the runtime's bundled one is) appended to sys.path.

    python -m benchmarks.function_package [--runs 7] [--source /tmp/before] [--platform arm64]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

_PROBE = """
import sys, time
sys.path[:0] = [sys.argv[1]]
sys.path += sys.argv[2:]
started = time.perf_counter()
import resizer_function.handler as handler
imported = time.perf_counter()
handler.s3_client()
client = time.perf_counter()
import botocore
took = f"{(imported - started) * 1000:.1f} {(client - imported) * 1000:.1f}"
print(f"{took} {botocore.__version__} {botocore.__file__}")
"""


def build(platform: str, source: Path | None) -> Path:
    code = f"from operations import package; print(package.build({platform!r}).path)"
    env = {**os.environ, **({"PYTHONPATH": str(source)} if source else {})}
    done = subprocess.run(  # in source: -c puts the working directory first on sys.path
        [sys.executable, "-c", code], env=env, cwd=source, capture_output=True, text=True, check=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


def unzip(path: Path, into: Path) -> float:
    shutil.rmtree(into, ignore_errors=True)
    started = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return (time.perf_counter() - started) * 1000


def probe(folder: Path, extra: list[str]) -> tuple[float, float, str]:
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "BUCKET": "bench",
        "PATH": os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", _PROBE, str(folder), *extra],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    imported, client, version, where = done.stdout.split()
    return float(imported), float(client), f"botocore {version} from {where}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--platform", default="local")
    args = parser.parse_args()
    import boto3

    bundled = str(Path(boto3.__file__).parent.parent)  # stands in for the runtime's /var/runtime
    zips = {"this checkout": (build(args.platform, None), [])}
    if args.source:
        zips = {f"baseline {args.source}": (build(args.platform, args.source), [bundled]), **zips}
    results: dict[str, dict[str, list[float]]] = {k: {"unzip": [], "import": [], "client": []} for k in zips}
    said: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="resizer-bench-zip-") as tmp:
        for _ in range(args.runs):
            for label, (path, extra) in zips.items():
                folder = Path(tmp) / label.replace(" ", "_").replace("/", "_")
                results[label]["unzip"].append(unzip(path, folder))
                imported, client, said[label] = probe(folder, extra)
                results[label]["import"].append(imported)
                results[label]["client"].append(client)
    for label, (path, _) in zips.items():
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
            files = len(archive.infolist())
        medians = {k: statistics.median(v) for k, v in results[label].items()}
        print(
            f"{label}: {path.name}: {path.stat().st_size:,} B zipped, {unpacked:,} B unpacked, "
            f"{files} files; "
            f"medians over {args.runs}: unzip {medians['unzip']:.0f} ms, import handler "
            f"{medians['import']:.0f} ms, S3 client {medians['client']:.0f} ms; {said[label]}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
