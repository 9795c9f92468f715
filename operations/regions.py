"""AWS region names, checked before any call is made (the table: ``localcloud.regions``, botocore's)."""

from localcloud.regions import known, plausible
from operations.errors import ConfigError

__all__ = ["check", "known", "plausible"]


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
