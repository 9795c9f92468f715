"""`resizer --help` as a user runs it: a new process each time, the median of --runs.

Each source tree given runs in turn (interleaved, so that the machine's load hits them alike) with
this checkout's interpreter and the tree first on PYTHONPATH; prints the median wall-clock and CPU
(user + sys) seconds of each, and of `import cli.app` alone. With no tree, this checkout alone.
`.pyc` files are written and used, as in an installed copy (PYTHONDONTWRITEBYTECODE is dropped).

    python -m benchmarks.cli_help [--runs 9] [name=/path/to/source/tree ...]
"""

import argparse
import os
import statistics
import subprocess
import sys

from benchmarks import timed

COMMANDS = {
    "resizer --help": "import sys; sys.argv = ['resizer', '--help']; from cli.app import main; main()",
    "import cli.app": "import cli.app",
}


def once(code: str, tree: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one `python -c code` in tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # .pyc as a user has
    env |= {"PYTHONPATH": tree, "COLUMNS": "120"}
    _, wall, cpu = timed.run(
        [sys.executable, "-c", code], cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True
    )
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("trees", nargs="*", help="name=path of a source tree (default: this checkout)")
    args = parser.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.trees) or {"this": os.getcwd()}
    for label, code in COMMANDS.items():
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for tree in trees.values():
            once(code, tree)  # compiles the tree's bytecode, warms the file cache
        for _ in range(args.runs):
            for name, tree in trees.items():
                times[name].append(once(code, tree))
        for name, runs in times.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{label:15} {name:8} median of {args.runs}: {wall:.3f} s wall, {cpu:.3f} s CPU")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
