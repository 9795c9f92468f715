"""Options every command takes (the AWS target and the output format), and how they combine.

They are accepted before the command (``resizer --region eu-west-1 status``) and after it
(``resizer status --region eu-west-1``); the latter wins.
"""

import functools
import inspect
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated

import typer

PANEL = "AWS target"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


Profile = Annotated[
    str | None, typer.Option("--profile", help="AWS profile from ~/.aws/config.", rich_help_panel=PANEL)
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region.", rich_help_panel=PANEL)]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url", help="An AWS-compatible endpoint (AWS_ENDPOINT_URL).", rich_help_panel=PANEL
    ),
]
Stack = Annotated[
    str | None, typer.Option("--stack", help="Stack name (default: resizer).", rich_help_panel=PANEL)
]
Output = Annotated[
    OutputFormat | None, typer.Option("--output", "-o", help="text (default) or json, for scripts.")
]


@dataclass(frozen=True)
class Common:
    """The common options of one invocation."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    stack: str | None = None
    output: OutputFormat | None = None

    def over(self, base: "Common | None") -> "Common":
        """These options, falling back to base's for those not given."""
        if base is None:
            return self
        given = {k: v for k, v in self.__dict__.items() if v is not None}
        return replace(base, **given)

    @property
    def json(self) -> bool:
        return self.output == OutputFormat.json


def common(ctx: typer.Context, **given: object) -> Common:
    """Merge a command's options over the ones given before the command."""
    base = ctx.obj if isinstance(ctx.obj, Common) else None
    return Common(**given).over(base)  # type: ignore[arg-type]


_TARGET_OPTIONS = {"profile": Profile, "region": Region, "endpoint_url": EndpointUrl, "stack": Stack}


def targeted(*, output: bool = True):
    """Give a command the AWS-target options (and --output) and pass them merged as `options`.

    The command declares ``options: Common`` instead of repeating the five options; they are
    added to its signature for Typer, merged over the ones given before the command, and passed in.
    """

    def decorate(command):
        extra = dict(_TARGET_OPTIONS, **({"output": Output} if output else {}))
        signature = inspect.signature(command)
        kept = [p for p in signature.parameters.values() if p.name not in ("ctx", "options")]
        added = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=t)
            for n, t in extra.items()
        ]
        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)

        @functools.wraps(command)
        def run(ctx: typer.Context, *args, **kwargs):
            options = common(ctx, **{name: kwargs.pop(name, None) for name in extra})
            return command(*args, options=options, **kwargs)

        run.__signature__ = signature.replace(parameters=[context, *kept, *added])
        run.__annotations__ = {
            **{k: v for k, v in command.__annotations__.items() if k != "options"},
            "ctx": typer.Context,
            **extra,
        }
        return run

    return decorate
