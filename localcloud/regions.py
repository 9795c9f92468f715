"""AWS region names from botocore's partitions data (standard library and botocore only).

The one region table of the tooling: the local cloud refuses requests scoped to a region it does
not name (``region_guard``), and ``operations.regions`` checks a region before any call with it.
"""

import functools
import re


@functools.cache
def _partitions() -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The regions botocore knows by name, and each partition's pattern for region names."""
    from botocore.loaders import create_loader

    loader = create_loader()
    try:
        partitions = [
            (p.get("regions", {}), p["regionRegex"]) for p in loader.load_data("partitions")["partitions"]
        ]
    except Exception:  # an older botocore without partitions.json: its endpoints.json has the same
        partitions = [
            (p.get("regions", {}), p["regionRegex"]) for p in loader.load_data("endpoints")["partitions"]
        ]
    names = frozenset(name for regions, _ in partitions for name in regions)
    return names, tuple(re.compile(pattern) for _, pattern in partitions)


def known(region: str) -> bool:
    """Whether botocore knows the region by name (every region of every partition it ships)."""
    return region in _partitions()[0]


def plausible(region: str) -> bool:
    """Known, or shaped as a partition's regions are (a region newer than this botocore)."""
    return known(region) or any(pattern.match(region) for pattern in _partitions()[1])
