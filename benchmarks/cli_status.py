"""`resizer status` against a real local cloud, as a user runs it: a new process each time.

Starts ``python -m localcloud.server`` on a free port with a temporary data dir, deploys the
stack, then runs ``resizer status`` (no AWS credentials: the local cloud by default) --runs times
for each source tree given, interleaved so that the machine's load hits them alike, and prints
the median wall-clock and CPU (user + sys) seconds. With no tree, this checkout alone.

    python -m benchmarks.cli_status [--runs 9] [name=/path/to/source/tree ...]

``--phases`` also times the parts of one status in a fresh process (imports, the session and
credential chain, the first client, each call), medians over the runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import timed

STATUS = "import sys; sys.argv = ['resizer', 'status']; from cli.app import main; main()"
PHASES = r"""
import json, time
T, a = {}, time.perf_counter()
def lap(name):
    global a
    T[name] = time.perf_counter() - a
    a = time.perf_counter()
import cli.app; lap("import cli.app (typer and the command table; commands load lazily)")
import typer._adapters; lap("import typer's pydantic adapters")
from operations.aws import Clients, Target
c = Clients.for_target(Target()); lap("session, credential chain (botocore)")
cfn = c.client("cloudformation"); lap("first client (service model, endpoints)")
d = cfn.describe_stacks(StackName="resizer")["Stacks"][0]; lap("DescribeStacks")
cfn.list_stack_resources(StackName=d["StackId"]); lap("ListStackResources")
lam = c.client("lambda"); lap("second client")
name = next(o["OutputValue"] for o in d["Outputs"] if o["OutputKey"] == "FunctionName")
lam.get_function(FunctionName=name); lap("GetFunction")
print(json.dumps(T))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("trees", nargs="*", help="name=path of a source tree (default: this checkout)")
    args = parser.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.trees) or {"this": os.getcwd()}

    from localcloud.process import running
    from operations import local

    with tempfile.TemporaryDirectory(prefix="resizer-bench-") as tmp, running(Path(tmp) / "local") as url:
        data = Path(tmp)
        list(local.provision(url, sleep=time.sleep))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESIZER_"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have .pyc files: measure with them
        env.update(
            RESIZER_LOCAL_PORT=url.rsplit(":", 1)[1],
            RESIZER_CACHE_DIR=str(data / "cache"),
            AWS_CONFIG_FILE=str(data / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(data / "no-credentials"),
        )

        def python(code: str, tree: str) -> tuple[subprocess.CompletedProcess, float, float]:
            return timed.run(
                [sys.executable, "-c", code],
                env={**env, "PYTHONPATH": tree},
                cwd=data,
                capture_output=True,
                text=True,
            )

        wall: dict[str, list[float]] = {name: [] for name in trees}
        cpu: dict[str, list[float]] = {name: [] for name in trees}
        for round_ in range(args.runs + 1):
            for name, tree in trees.items():
                done, elapsed, used = python(STATUS, tree)
                if done.returncode:
                    print(done.stderr, file=sys.stderr)
                    return 1
                if round_:  # the first round warms the page cache
                    wall[name].append(elapsed)
                    cpu[name].append(used)
        for name in trees:
            print(
                f"{name:10s} wall median {statistics.median(wall[name]):.2f} s "
                f"(min {min(wall[name]):.2f}, max {max(wall[name]):.2f})  "
                f"cpu median {statistics.median(cpu[name]):.2f} s  runs {args.runs}"
            )
        if args.phases:
            for name, tree in trees.items():
                laps = [json.loads(python(PHASES, tree)[0].stdout) for _ in range(args.runs)]
                print(f"phases of {name} (median ms):")
                for key in laps[0]:
                    print(f"  {key:42s} {statistics.median(lap[key] for lap in laps) * 1000:7.0f}")
    print(f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
