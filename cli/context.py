"""From parsed options to what operations need: Settings (resizer.toml, env, flags) and Clients."""

from pathlib import Path

from cli.options import Common
from operations import config
from operations.aws import Clients


def settings(options: Common, parameters: list[str] | None = None) -> config.Settings:
    return config.load(
        Path.cwd(),
        stack=options.stack,
        region=options.region,
        profile=options.profile,
        endpoint_url=options.endpoint_url,
        parameters=parameters,
    )


def clients(found: config.Settings) -> Clients:
    made = Clients.for_target(found.target)
    if made.defaulted_to_local and _first_time(made.endpoint_url or ""):
        from cli import render

        render.note(
            f"No AWS credentials found: using the local cloud at {made.endpoint_url} (start it: resizer up). "
            "This note is shown once; configure AWS credentials or --profile to target AWS."
        )
    return made


def _first_time(endpoint: str) -> bool:
    """True the first time the local cloud is chosen by default (a marker in the cache folder)."""
    import hashlib
    import os

    base = Path(os.environ.get("RESIZER_CACHE_DIR") or Path.home() / ".cache" / "resizer")
    marker = base / f"local-default-{hashlib.sha256(endpoint.encode()).hexdigest()[:12]}"
    if marker.exists():
        return False
    try:
        base.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass
    return True
