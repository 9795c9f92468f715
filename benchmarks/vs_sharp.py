"""The resize pipeline against sharp (libvips), side by side on this machine.

sharp 0.35.x is installed from the npm registry into a cache folder on first use (Node is a
benchmark-only dependency, never the function's). Both sides run as long-lived workers pinned
with `taskset` to the same CPU (one core each, sharp with `concurrency(1)` and no operation
cache; ours with the template's allocation settings), one run each in turn, so load from
other processes hits both alike; the figures are medians of rounds x runs. The one-core table
times process CPU (user + system, every thread) by default: on a machine shared with other
jobs, wall-clock medians mostly measure the scheduler, while CPU time is what each side's work
costs (single-threaded, its wall time on an idle core); the wall-clock ratio is printed beside
it. Quality: luma PSNR of each side's output against a full-decode LANCZOS reference
(flattened onto white, cropped as the fit says, no lossy encode).
A second table runs both on two cores: ours with its strip resize, sharp at its defaults.

    python -m benchmarks.vs_sharp [--rounds 3] [--runs 9] [--only 24mp] [--cores 1|2|both] [--json f]
                                  [--floor]

Exits 1 when a goal of the one-core table is missed: geomean of ours/sharp <= 1.0, no case over
1.15, every case's PSNR within 0.5 dB of sharp's.
"""

import argparse
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

from benchmarks.photos import IMAGES

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "cloudformation" / "resizer.yaml"
SHARP_VERSION = "~0.35.5"
SHARP_DIR = Path(os.environ.get("RESIZER_SHARP_DIR", Path.home() / ".cache" / "resizer" / "sharp"))
WORKER_JS = Path(__file__).with_name("sharp_worker.js")
SIDES = ("ours", "sharp")
GEOMEAN_GOAL, WORST_GOAL, PSNR_MARGIN = 1.0, 1.15, 0.5


@dataclass(frozen=True)
class Case:
    label: str
    image: str
    width: int
    height: int
    fit: str = "inside"
    format: str = "jpeg"

    def spec(self, images: Path) -> dict:
        return {
            "path": str(images / self.image),
            "width": self.width,
            "height": self.height,
            "fit": self.fit,
            "format": self.format,
        }


CASES = [
    Case("12 MP -> 150", "photo-12mp.jpg", 150, 150),
    Case("24 MP -> 150", "photo-24mp.jpg", 150, 150),
    Case("12 MP -> 1200", "photo-12mp.jpg", 1200, 900),
    Case("24 MP -> 1200", "photo-24mp.jpg", 1200, 900),
    Case("progressive 12 MP -> 150", "photo-12mp-progressive.jpg", 150, 150),
    Case("progressive 12 MP -> 1200", "photo-12mp-progressive.jpg", 1200, 900),
    Case("PNG alpha -> 150 JPEG", "photo-alpha-2000x1500.png", 150, 150),
    Case("PNG alpha -> 1200 JPEG", "photo-alpha-2000x1500.png", 1200, 900),
    Case("PNG alpha -> 300 PNG", "photo-alpha-2000x1500.png", 300, 300, format="png"),
    Case("WebP -> 150", "photo-3000x2000.webp", 150, 150),
    Case("WebP -> 1200", "photo-3000x2000.webp", 1200, 900),
    Case("12 MP -> 1200 WebP out", "photo-12mp.jpg", 1200, 900, format="webp"),
    Case("12 MP -> 300x300 cover", "photo-12mp.jpg", 300, 300, fit="cover"),
]


def allocation_env() -> dict[str, str]:
    """PILLOW_BLOCKS_MAX and MALLOC_* exactly as the template gives them to the function."""
    text = TEMPLATE.read_text()
    found = dict(re.findall(r"^\s+(PILLOW_BLOCKS_MAX|MALLOC_[A-Z_]+):\s*\"?(\d+)\"?", text, re.M))
    if "PILLOW_BLOCKS_MAX" not in found:
        raise SystemExit(f"no PILLOW_BLOCKS_MAX in {TEMPLATE}")
    return found


def install_sharp() -> Path:
    """sharp from the npm registry into SHARP_DIR (once); its node_modules folder."""
    modules = SHARP_DIR / "node_modules"
    if not (modules / "sharp" / "package.json").exists():
        for tool in ("node", "npm"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} is not on PATH: the sharp benchmark needs Node.js >= 20.9")
        SHARP_DIR.mkdir(parents=True, exist_ok=True)
        (SHARP_DIR / "package.json").write_text('{"private": true}\n')
        print(f"installing sharp@{SHARP_VERSION} into {SHARP_DIR}", file=sys.stderr)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", f"sharp@{SHARP_VERSION}"],
            cwd=SHARP_DIR,
        )
        if done.returncode:
            raise SystemExit(f"npm could not install sharp@{SHARP_VERSION} (exit {done.returncode})")
    return modules


class Worker:
    """A long-lived benchmark process speaking JSON lines."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1
        )

    def ask(self, **message) -> dict:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"benchmark worker {self.process.args} died")
        answer = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"benchmark worker failed: {answer['error']}")
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def start_workers(cpus: str, cases: list[dict], single: bool) -> tuple[Worker, Worker, dict]:
    modules = install_sharp()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "PILLOW_"))}
    ours_env = {**base, **allocation_env(), "PYTHONPATH": str(ROOT)}
    sharp_env = {**base, "NODE_PATH": str(modules)}
    if single:
        sharp_env["UV_THREADPOOL_SIZE"] = "1"
    pin = ["taskset", "-c", cpus] if shutil.which("taskset") else []
    ours = Worker([*pin, sys.executable, "-m", "benchmarks.vs_sharp", "--worker"], ours_env)
    theirs = Worker([*pin, "node", str(WORKER_JS)], sharp_env)
    threads = ours.ask(op="setup", cases=cases)["threads"]
    versions = theirs.ask(op="setup", cases=cases, concurrency=1 if single else None)
    return ours, theirs, {**versions, "threads": threads}


def serve() -> None:
    """The worker loop for our side (run with --worker, inside the pinned process)."""
    from resizer_function import imaging, resample
    from resizer_function.request import ResizeRequest

    cases: list[tuple[bytes, ResizeRequest]] = []

    def once(i: int) -> bytes:
        data, request = cases[i]
        return imaging.render(data, request, max_pixels=50_000_000, max_dimension=4096).body

    def decode_only(i: int) -> bytes:
        """render() up to its decode (the draft scale included), and no further: the floor."""
        data, request = cases[i]
        im = imaging.open_image(data, 50_000_000)
        orientation = imaging._orientation(im)
        swap = orientation >= 5
        width, height = im.size[::-1] if swap else im.size
        geometry = imaging.fit(width, height, request, 4096)
        box = imaging._to_stored(geometry.box, orientation, width, height)
        imaging._decode(im, data, box, geometry.size[::-1] if swap else geometry.size)
        return b""

    for line in sys.stdin:
        message = json.loads(line)
        try:
            if message["op"] == "setup":
                cases = [
                    (
                        Path(c["path"]).read_bytes(),
                        ResizeRequest(c["width"], c["height"], "bench", c["fit"], 80, c["format"]),
                    )
                    for c in message["cases"]
                ]
                answer: dict = {"threads": resample.threads()}
            else:
                run = decode_only if message.get("floor") else once
                out = run(message["case"]) if message.get("warmup") else b""
                ms, cpu_ms = [], []
                for _ in range(message["runs"]):
                    started, cpu = time.perf_counter(), time.process_time()
                    out = run(message["case"])
                    cpu_ms.append((time.process_time() - cpu) * 1000)
                    ms.append((time.perf_counter() - started) * 1000)
                if message.get("out"):
                    Path(message["out"]).write_bytes(out)
                answer = {"ms": ms, "cpu_ms": cpu_ms}
        except Exception as exc:  # reported to the orchestrator, which stops
            answer = {"error": repr(exc)}
        print(json.dumps(answer), flush=True)


def reference(case: Case, images: Path, size: tuple[int, int]) -> Image.Image:
    """Full decode, orientation, flattened onto white, the fit's source box, LANCZOS, luma."""
    from resizer_function import imaging
    from resizer_function.request import ResizeRequest

    im = ImageOps.exif_transpose(Image.open(images / case.image))
    im = im.convert("RGBA")
    request = ResizeRequest(case.width, case.height, "ref", case.fit, 80, case.format)
    box = imaging.fit(im.width, im.height, request, 1 << 30).box
    im = im.resize(size, Image.Resampling.LANCZOS, box=box)
    return _luma(im)


def _luma(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im)
    return im.convert("L")


def psnr(reference_luma: Image.Image, output: bytes) -> float:
    out = _luma(Image.open(io.BytesIO(output)))
    ref = reference_luma if out.size == reference_luma.size else reference_luma.resize(out.size)
    mse = ImageStat.Stat(ImageChops.difference(ref, out)).rms[0] ** 2
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def measure(
    cases: list[Case],
    images: Path,
    cpus: str,
    single: bool,
    rounds: int,
    runs: int,
    clock_key: str,
    floor: bool = False,
) -> list[dict]:
    specs = [c.spec(images) for c in cases]
    ours, theirs, versions = start_workers(cpus, specs, single)
    print(
        f"sharp {versions['versions']['sharp']} (libvips {versions['versions']['vips']}, "
        f"concurrency {versions['concurrency']}), Pillow {Image.__version__} "
        f"({versions['threads']} threads); cpus {cpus}; "
        f"{rounds} rounds x {runs} runs, medians",
        flush=True,
    )
    clocks = ("ms", "cpu_ms")
    samples = {(i, side, clock): [] for i in range(len(cases)) for side in SIDES for clock in clocks}
    round_ratios: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    outputs = {}
    workers = {"ours": ours, "sharp": theirs}
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(rounds):
            for i in range(len(cases)):
                this_round: dict[str, list[float]] = {"ours": [], "sharp": []}
                for run in range(runs):  # one run each in turn, who goes first alternating
                    for side in SIDES if (r + i + run) % 2 == 0 else SIDES[::-1]:
                        out = Path(scratch) / f"{i}-{side}" if r == 0 and run == 0 else None
                        answer = workers[side].ask(
                            op="run",
                            case=i,
                            runs=1,
                            warmup=r == 0 and run == 0,
                            out=str(out) if out else None,
                        )
                        if out:
                            outputs[i, side] = out
                        for clock in clocks:
                            samples[i, side, clock] += answer[clock]
                        this_round[side] += answer[clock_key]
                    if floor:  # ours, decode only, in the same turn
                        answer = ours.ask(op="run", case=i, runs=1, warmup=r == 0 and run == 0, floor=True)
                        samples.setdefault((i, "floor", clock_key), []).extend(answer[clock_key])
                round_ratios[i].append(
                    statistics.median(this_round["ours"]) / statistics.median(this_round["sharp"])
                )
        ours.close()
        theirs.close()
        rows = []
        for i, case in enumerate(cases):
            ours_out, sharp_out = outputs[i, "ours"].read_bytes(), outputs[i, "sharp"].read_bytes()
            ref = reference(case, images, Image.open(io.BytesIO(ours_out)).size)
            median = {
                (side, clock): statistics.median(samples[i, side, clock])
                for side in SIDES
                for clock in clocks
            }
            rows.append(
                {
                    "case": case.label,
                    "clock": "process CPU time" if clock_key == "cpu_ms" else "wall time",
                    "ours_ms": round(median["ours", clock_key], 1),
                    "sharp_ms": round(median["sharp", clock_key], 1),
                    "ratio": round(median["ours", clock_key] / median["sharp", clock_key], 2),
                    "round_ratios": [round(x, 2) for x in round_ratios[i]],
                    "wall_ratio": round(median["ours", "ms"] / median["sharp", "ms"], 2),
                    "cpu_ratio": round(median["ours", "cpu_ms"] / median["sharp", "cpu_ms"], 2),
                    "ours_psnr": round(psnr(ref, ours_out), 2),
                    "sharp_psnr": round(psnr(ref, sharp_out), 2),
                    "ours_bytes": len(ours_out),
                    "sharp_bytes": len(sharp_out),
                    "ours_size": "x".join(map(str, Image.open(io.BytesIO(ours_out)).size)),
                    "sharp_size": "x".join(map(str, Image.open(io.BytesIO(sharp_out)).size)),
                }
            )
            if floor:
                decode = statistics.median(samples[i, "floor", clock_key])
                rows[-1]["decode_ms"] = round(decode, 1)
                rows[-1]["decode_ratio"] = round(decode / median["sharp", clock_key], 2)
    return rows


def report(title: str, rows: list[dict]) -> dict:
    print(f"\n{title}; the ms columns and ours/sharp are {rows[0]['clock']}\n")
    print(
        "| case | ours ms | sharp ms | ours/sharp | per round | wall / CPU ratio "
        "| PSNR ours / sharp dB | bytes ours / sharp |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        sizes = (
            "" if row["ours_size"] == row["sharp_size"] else f" ({row['ours_size']} / {row['sharp_size']})"
        )
        rounds = " ".join(f"{x:.2f}" for x in row["round_ratios"])
        print(
            f"| {row['case']} | {row['ours_ms']} | {row['sharp_ms']} | **{row['ratio']:.2f}** | {rounds} "
            f"| {row['wall_ratio']} / {row['cpu_ratio']} | {row['ours_psnr']} / {row['sharp_psnr']} "
            f"| {row['ours_bytes']} / {row['sharp_bytes']}{sizes} |"
        )
    if "decode_ms" in rows[0]:
        print(
            "\nours decode only (open, draft scale, load; in the same turns), against sharp's whole "
            "pipeline: "
            + "; ".join(f"{r['case']} {r['decode_ms']} ms = {r['decode_ratio']:.2f}x" for r in rows)
        )
    ratios = [row["ratio"] for row in rows]
    summary = {"geomean": round(math.exp(statistics.fmean(map(math.log, ratios))), 3), "worst": max(ratios)}
    print(f"\ngeomean {summary['geomean']:.2f}x, worst {summary['worst']:.2f}x")
    return summary


def verdicts(rows: list[dict], summary: dict) -> list[str]:
    failures = []
    if summary["geomean"] > GEOMEAN_GOAL:
        failures.append(f"geomean {summary['geomean']}x > {GEOMEAN_GOAL}x")
    for row in rows:
        if row["ratio"] > WORST_GOAL:
            failures.append(f"{row['case']}: {row['ratio']}x > {WORST_GOAL}x")
        if row["ours_psnr"] < row["sharp_psnr"] - PSNR_MARGIN:
            failures.append(f"{row['case']}: PSNR {row['ours_psnr']} dB < sharp's {row['sharp_psnr']} - 0.5")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--only", help="run the cases whose label contains this text")
    parser.add_argument("--cores", choices=("1", "2", "both"), default="both")
    parser.add_argument("--cpu", default=None, help="the CPU for the one-core table (default: the last)")
    parser.add_argument("--images", type=Path, default=Path(os.environ.get("BENCH_IMAGES", IMAGES)))
    parser.add_argument(
        "--clock", choices=("cpu_ms", "ms"), default="cpu_ms", help="one-core table: process CPU or wall time"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="one-core table: also time our decode alone (what no resize saves)",
    )
    args = parser.parse_args()
    if args.worker:
        serve()
        return 0
    if not args.images.is_dir():
        print(f"no benchmark images at {args.images}", file=sys.stderr)
        return 2
    cases = [c for c in CASES if not args.only or args.only.lower() in c.label.lower()]
    available = sorted(os.sched_getaffinity(0))
    results, failures = {}, []
    if args.cores in ("1", "both"):
        cpu = args.cpu or str(available[-1])
        rows = measure(cases, args.images, cpu, True, args.rounds, args.runs, args.clock, args.floor)
        summary = report("One core each (sharp concurrency 1)", rows)
        results["one_core"] = {"rows": rows, **summary}
        failures = verdicts(rows, summary)
    if args.cores in ("2", "both") and len(available) >= 2:
        cpus = ",".join(map(str, available[:2]))
        rows = measure(cases, args.images, cpus, False, args.rounds, args.runs, "ms")
        results["two_cores"] = {"rows": rows, **report("Two cores (sharp at its default concurrency)", rows)}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    for failure in failures:
        print("goal missed:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
