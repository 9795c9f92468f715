"""The resize pipeline against naive Pillow and against the decode-at-scale floor.

For each photo-like image in ../shared/bench-images and each target, in one process:
  naive  open -> convert -> resize LANCZOS -> save (what most code does)
  ours   resizer_function.imaging.render (draft, reducing_gap, orientation, metadata strip)
  floor  open -> draft to the target -> load (the least decoding any pipeline must do)
and the PSNR of our output against naive's, so speed never hides a quality loss.

    python -m benchmarks.pipeline [--runs 9] [--images DIR] [--json out.json]
"""

import argparse
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

from benchmarks.photos import IMAGES
from resizer_function import imaging
from resizer_function.request import ResizeRequest

CASES = [
    (name, box, out)
    for name in (
        "photo-12mp.jpg",
        "photo-24mp.jpg",
        "photo-12mp-progressive.jpg",
        "photo-alpha-2000x1500.png",
        "photo-3000x2000.webp",
    )
    for box in ((150, 150), (1200, 900))
    for out in ("jpeg",)
] + [("photo-12mp.jpg", (1200, 900), "webp")]
TARGETS = {  # (image, box, format): minimum speed-up over naive
    ("photo-12mp.jpg", (150, 150), "jpeg"): 6.0,
    ("photo-12mp.jpg", (1200, 900), "jpeg"): 2.5,
}
FLOOR_TARGET, PSNR_TARGET = 1.3, 35.0


def naive(data: bytes, box: tuple[int, int], out: str, flatten: bool = False) -> bytes:
    im = Image.open(io.BytesIO(data))
    if flatten and im.mode == "RGBA":  # only for the quality reference: see reference()
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im)
    im = im.convert("RGB")
    scale = min(box[0] / im.width, box[1] / im.height)
    size = (math.floor(im.width * scale + 0.5), math.floor(im.height * scale + 0.5))
    im = im.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, format=out.upper(), quality=80)
    return buffer.getvalue()


def reference(data: bytes, box: tuple[int, int], out: str) -> bytes:
    """naive, but compositing transparency onto white as ours does: convert("RGB") alone
    keeps whatever colour lies under transparent pixels, so it is no reference for quality."""
    return naive(data, box, out, flatten=True)


def ours(data: bytes, box: tuple[int, int], out: str) -> bytes:
    request = ResizeRequest(box[0], box[1], "bench", fit="inside", quality=80, format=out)
    return imaging.render(data, request, max_pixels=50_000_000, max_dimension=4096).body


def floor(data: bytes, box: tuple[int, int], out: str) -> bytes:
    im = Image.open(io.BytesIO(data))
    im.draft(None, box)
    im.load()
    return b""


def timed(fn, data, box, out, runs: int) -> tuple[float, bytes]:
    result = fn(data, box, out)  # warm-up, and the output to compare
    samples = []
    for _ in range(runs):
        started = time.process_time()  # CPU time: on a shared machine wall time measures the others
        fn(data, box, out)
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples), result


def psnr(a: bytes, b: bytes) -> float:
    first, second = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if first.size != second.size:
        second = second.resize(first.size, Image.Resampling.LANCZOS)
    rms = ImageStat.Stat(ImageChops.difference(first, second)).rms
    mse = sum(r * r for r in rms) / len(rms)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def run(images: Path, runs: int) -> list[dict]:
    rows = []
    for name, box, out in CASES:
        data = (images / name).read_bytes()
        naive_ms, naive_out = timed(naive, data, box, out, runs)
        ours_ms, ours_out = timed(ours, data, box, out, runs)
        floor_ms, _ = timed(floor, data, box, out, runs)
        row = {
            "image": name,
            "target": f"{box[0]}x{box[1]}",
            "format": out,
            "naive_ms": round(naive_ms, 1),
            "ours_ms": round(ours_ms, 1),
            "floor_ms": round(floor_ms, 1),
            "speedup": round(naive_ms / ours_ms, 2),
            "over_floor": round(ours_ms / floor_ms, 2),
            "psnr_db": round(psnr(reference(data, box, out), ours_out), 1),
            "bytes_naive": len(naive_out),
            "bytes_ours": len(ours_out),
        }
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    return (
        f"| {row['image']} | {row['target']} | {row['format']} | {row['naive_ms']} | {row['ours_ms']} "
        f"| {row['speedup']}x | {row['floor_ms']} | {row['over_floor']}x | {row['psnr_db']} "
        f"| {row['bytes_ours']} / {row['bytes_naive']} |"
    )


def verdicts(rows: list[dict]) -> list[str]:
    failures = []
    for row in rows:
        key = (row["image"], tuple(int(v) for v in row["target"].split("x")), row["format"])
        if key in TARGETS and row["speedup"] < TARGETS[key]:
            failures.append(f"{key}: {row['speedup']}x < {TARGETS[key]}x")
        if row["target"] == "150x150" and row["image"].endswith(".jpg") and row["over_floor"] > FLOOR_TARGET:
            failures.append(f"{key}: {row['over_floor']}x the decode floor > {FLOOR_TARGET}x")
        if row["psnr_db"] < PSNR_TARGET:
            failures.append(f"{key}: PSNR {row['psnr_db']} dB < {PSNR_TARGET}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--images", type=Path, default=Path(os.environ.get("BENCH_IMAGES", IMAGES)))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.images.is_dir():
        print(f"no benchmark images at {args.images}", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):  # one core: the function's own strip resize stays single-threaded
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"Pillow {Image.__version__}, {args.runs} runs, medians of process CPU ms, one core")
    print(
        "| image | target | out | naive | ours | speed-up | floor | ours/floor | PSNR dB | bytes ours/naive |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = run(args.images, args.runs)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    failures = verdicts(rows)
    for failure in failures:
        print("below target:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
