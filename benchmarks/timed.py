"""A child process run and timed: its wall-clock and CPU (user + sys, its children's too) seconds."""

import resource
import subprocess
import time
from typing import Any


def run(argv: list[str], **options: Any) -> tuple[subprocess.CompletedProcess, float, float]:
    """``subprocess.run(argv, **options)``, its wall-clock seconds and its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, **options)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
