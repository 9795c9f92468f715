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
    if made.defaulted_to_local:
        from cli import render

        render.note(
            f"No AWS credentials found: using the local cloud at {made.endpoint_url} (start it: resizer up)"
        )
    return made
