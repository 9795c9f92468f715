"""`resizer deploy` with nothing changed, timed as a user runs it against the local cloud.

Starts a local cloud process (localcloud.process.running) with a temporary data dir, deploys the
stack once, then runs ``resizer deploy --yes`` as a subprocess ``--runs`` times (wall clock,
interpreter start included) and prints the median, the minimum and the maximum, and the median
CPU time (user + system: less sensitive than wall time to other work on a busy machine). With
``--source DIR`` the same is done with another checkout's code first on PYTHONPATH (e.g. a
``git worktree`` of an older commit), so a before/after comes from one machine in one sitting.

    python -m benchmarks.deploy_noop [--runs 7] [--source /tmp/before]
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks import timed
from localcloud import process


def _env(url: str, source: Path | None, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESIZER_"))}
    env |= {
        "RESIZER_LOCAL_PORT": url.rsplit(":", 1)[1],
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "RESIZER_CACHE_DIR": os.environ.get("RESIZER_CACHE_DIR") or str(home / "cache"),
    }
    if source:
        env["PYTHONPATH"] = str(source)
    return env


def deploy(env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one ``resizer deploy --yes``, and its last line."""
    done, took, cpu = timed.run(
        [sys.executable, "-c", "from cli.app import main; main()", "deploy", "--yes"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"resizer deploy exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return took, cpu, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def measure(runs: int, source: Path | None) -> tuple[list[float], list[float], str]:
    with tempfile.TemporaryDirectory(prefix="resizer-bench-deploy-") as tmp:
        home = Path(tmp)
        with process.running(home / "data", log=home / "cloud.log") as url:
            env = _env(url, source, home)
            deploy(env, home)  # the first deploy creates the stack
            times, cpus, said = [], [], ""
            for _ in range(runs):
                took, cpu, said = deploy(env, home)
                times.append(took)
                cpus.append(cpu)
    return times, cpus, said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source", type=Path, help="another checkout to measure first (the baseline)")
    args = parser.parse_args()
    sources = ([args.source] if args.source else []) + [None]
    for source in sources:
        times, cpus, said = measure(args.runs, source)
        label = f"baseline {source}" if source else "this checkout"
        print(
            f"{label}: resizer deploy, nothing changed: median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}), CPU median {statistics.median(cpus):.2f} s, "
            f"over {len(times)} runs; load average {os.getloadavg()[0]:.1f}; it said: {said}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
