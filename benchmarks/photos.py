"""Where the benchmark photos are: ../shared/bench-images beside the checkout, or beside the checkout
a worktree belongs to (the first such folder above this file)."""

from pathlib import Path

_HERE = Path(__file__).resolve()
IMAGES = next(
    (p / "shared" / "bench-images" for p in _HERE.parents if (p / "shared" / "bench-images").is_dir()),
    _HERE.parents[2] / "shared" / "bench-images",
)
