"""What durable writes cost, and what a big local cloud costs to restart, on a real server process.

  record   in this process, the time Store.record_s3 adds to one object write (the body and its
           record appended to the journal, one fdatasync) for 10 kB, 100 kB and 1 MB bodies, then
           one snapshot (which moves those bodies to files of their own, with one syncfs)
  writes   N sequential PutObject (boto3, keep-alive) of SIZE bytes each: median and p90 latency,
           and the same for DeleteObject; run it on two checkouts to see what the journal adds
  scale    upload MB megabytes of 1 MB objects, stop the server (SIGTERM), then restart it and
           time from the process start to a health answer ("Ready"), to the first listed object,
           and report the saved state's size on disk (metadata apart from bodies) and the
           server's peak RSS (VmHWM) after the restart and a read of every object

    python -m benchmarks.durability [--writes 200] [--size 100000] [--mb 300]

The server comes from the current directory's ``localcloud`` (run it from another checkout,
with that checkout's interpreter, to compare).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from localcloud import contract
from localcloud.process import free_port, started
from localcloud.process import stop as _stop


def start(data: Path, port: int) -> tuple[subprocess.Popen, float]:
    """The server on port with its state in data, once it answers its health path; seconds to that."""
    began = time.monotonic()
    process = started(
        [sys.executable, "-m", contract.SERVER_MODULE, *contract.server_args(port, data)],
        lambda _: bool(contract.health(contract.endpoint(port), timeout=0.5)),
        timeout=600,
        every=0.02,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, time.monotonic() - began


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, and the wait while it saves (a big state takes a while)."""
    _stop(process, grace=600)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def client(port: int):
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
        config=Config(retries={"max_attempts": 1}),
    )


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"


def writes(count: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        process, _ = start(Path(folder) / "data", port)
        try:
            s3 = client(port)
            s3.create_bucket(Bucket="bench-writes")
            body = os.urandom(size)
            for index in range(5):  # warm the connection and moto
                s3.put_object(Bucket="bench-writes", Key=f"warm-{index}", Body=body)
            puts, deletes = [], []
            for index in range(count):
                began = time.perf_counter()
                s3.put_object(Bucket="bench-writes", Key=f"k-{index}", Body=body)
                puts.append(time.perf_counter() - began)
            for index in range(count):
                began = time.perf_counter()
                s3.delete_object(Bucket="bench-writes", Key=f"k-{index}")
                deletes.append(time.perf_counter() - began)
            print(f"PutObject {size:,} B x{count}: {_ms(puts)}")
            print(f"DeleteObject x{count}: {_ms(deletes)}")
        finally:
            stop(process)


def _disk(path: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in path.glob(pattern) if p.is_file())


def scale(megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        port = free_port()
        process, cold = start(data, port)
        s3 = client(port)
        s3.create_bucket(Bucket="bench-scale")
        body = os.urandom(1024 * 1024)
        began = time.monotonic()
        for index in range(megabytes):
            distinct = body[index:] + body[:index]
            s3.put_object(Bucket="bench-scale", Key=f"photo-{index:04d}.jpg", Body=distinct)
        uploaded = time.monotonic() - began
        rss_loaded = peak_rss_mb(process.pid)
        stop(process)
        metadata = _disk(data, "state.pickle") + _disk(data / "state", "*")
        everything = _disk(data, "**/*")
        process, ready = start(data, port)
        try:
            began = time.monotonic()
            listed = client(port).list_objects_v2(Bucket="bench-scale", MaxKeys=1)["KeyCount"]
            first = ready + time.monotonic() - began
            rss_ready = peak_rss_mb(process.pid)
            s3 = client(port)
            for index in range(megabytes):
                s3.get_object(Bucket="bench-scale", Key=f"photo-{index:04d}.jpg")["Body"].read()
            rss_read = peak_rss_mb(process.pid)
        finally:
            stop(process)
        timer = [sys.executable, "-c", _LOAD_TIMER, str(data)]
        loading = subprocess.run(timer, capture_output=True, text=True)
        print(f"{megabytes} MB in {megabytes} objects, uploaded in {uploaded:.1f} s (start {cold:.1f} s)")
        print(f"on disk: {everything / 1e6:.1f} MB in all, metadata state {metadata / 1e6:.2f} MB")
        print(f"of which: {loading.stdout.strip() or loading.stderr.strip()[-300:]}")
        print(f"restart to Ready {ready:.2f} s, to the first listing {first:.2f} s (listed {listed})")
        print(
            f"peak RSS: {rss_loaded:.0f} MB after the uploads, {rss_ready:.0f} MB after the restart, "
            f"{rss_read:.0f} MB after reading every object"
        )


def record(count: int) -> None:
    """In this process: what making one object write durable costs (body file + journal record)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto import mock_aws

    from localcloud import persistence

    with tempfile.TemporaryDirectory() as folder, mock_aws():
        store = persistence.Store(Path(folder))
        store.load()
        store.start()
        s3 = boto3.client("s3", aws_access_key_id="x", aws_secret_access_key="x")
        s3.create_bucket(Bucket="bench-record")
        for size in (10_000, 100_000, 1_000_000):
            body = os.urandom(size)
            samples = []
            for index in range(count):
                s3.put_object(Bucket="bench-record", Key=f"k-{index}", Body=body)
                began = time.perf_counter()
                store.record_s3([("key", "bench-record", f"k-{index}")])
                samples.append(time.perf_counter() - began)
            print(f"journaling one {size:,} B object write: {_ms(samples)}")
        began = time.perf_counter()
        store.checkpoint()
        print(f"a snapshot with {3 * count} objects: {(time.perf_counter() - began) * 1000:.0f} ms")
        store.close()


_LOAD_TIMER = """
import sys, time
from pathlib import Path
began = time.perf_counter()
from localcloud import server
cloud = server.build("http://127.0.0.1:1", Path(sys.argv[1]))
built = time.perf_counter()
store = getattr(cloud, "store", None)
if store is not None:
    store.load()
    store.start()
else:
    from localcloud import persistence
    persistence.load(Path(sys.argv[1]))
loaded = time.perf_counter()
cloud.runtime.shutdown()
print(f"imports and build {built - began:.2f} s, loading the state {loaded - built:.2f} s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--only", choices=["record", "writes", "scale"])
    args = parser.parse_args()
    if args.only in (None, "record"):
        record(args.writes)
    if args.only in (None, "writes"):
        writes(args.writes, args.size)
    if args.only in (None, "scale"):
        scale(args.mb)


if __name__ == "__main__":
    main()
