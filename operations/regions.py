"""AWS region names, checked against botocore's partitions data before any call is made."""

import functools
import re

from operations.errors import ConfigError


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


def check(region: str, *, endpoint_url: str | None = None) -> None:
    """ConfigError naming the region unless AWS (or the endpoint, by name) can know it.

    On AWS a region that fits a partition's pattern is let through: it may be newer than the
    installed botocore, and AWS answers for it. Another endpoint (the local cloud) knows only the
    regions botocore names.
    """
    if known(region) or (endpoint_url is None and plausible(region)):
        return
    raise ConfigError(
        f"unknown AWS region {region!r}",
        hint="use a region such as us-east-1 or eu-west-1 (aws account list-regions lists yours)",
    )
