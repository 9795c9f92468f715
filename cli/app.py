"""The `resizer` Typer application: global options, and one command per module in cli/commands/.

A command's module (and so boto3, rich, the operations it uses) is imported only when that command
runs or shows its own help: ``COMMANDS`` names each command, its help panel and the one line
`resizer --help` lists, and ``LazyGroup`` loads the real command when it is chosen
(tests/cli/test_help.py checks the table against the modules).
"""

import importlib
import os
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

import cli.help_format  # noqa: F401 - flags without a <bool> type in --help
from cli.options import Common, EndpointUrl, Output, Profile, Region, Stack


@dataclass(frozen=True)
class Entry:
    """One command of `resizer`: where it is defined, and how `resizer --help` lists it."""

    name: str
    target: str  # "module:attribute": a command function, or the typer.Typer of a command group
    panel: str
    summary: str  # the first paragraph of its help


COMMANDS = (
    Entry(
        "up",
        "cli.commands.up:up",
        "Local cloud",
        "Run the whole service on this machine: a local AWS endpoint, the stack, a sample photo.",
    ),
    Entry(
        "package",
        "cli.commands.package:package",
        "Stack",
        "Build the deterministic function zip: the same sources give the same bytes and sha256.",
    ),
    Entry(
        "deploy",
        "cli.commands.deploy:deploy",
        "Stack",
        "Deploy the stack through a CloudFormation change set, showing its events live.",
    ),
    Entry(
        "status",
        "cli.commands.status:status",
        "Stack",
        "Show the stack's status, outputs, resources and its functions' configuration.",
    ),
    Entry(
        "destroy",
        "cli.commands.destroy:destroy",
        "Stack",
        "Delete the stack. The images bucket and its images are kept unless --delete-images.",
    ),
    Entry(
        "invoke",
        "cli.commands.invoke:invoke",
        "Function",
        "Invoke the function once (never retried) and show its response, REPORT and logs.",
    ),
    Entry(
        "resize",
        "cli.commands.invoke:resize",
        "Function",
        "Invoke the function with the API Gateway event for one path, as the website's redirect does.",
    ),
    Entry(
        "logs",
        "cli.commands.logs:logs",
        "Function",
        "Show the functions' logs. A function that never ran has no logs yet (not an error).",
    ),
    Entry(
        "metrics",
        "cli.commands.metrics:metrics",
        "Function",
        "Show the functions' metrics over a window, with a sparkline per metric (the resize function's,\n"
        "then the cleanup function's invocations, errors, throttles and longest run).",
    ),
    Entry(
        "console",
        "cli.commands.console:console",
        "Console",
        "Run the web console: deploy, status, images, invoke, logs and metrics in a browser.",
    ),
    Entry("version", "cli.app:version_command", "Other", "Print the version."),
    Entry(
        "sign",
        "cli.commands.sign:sign",
        "Images",
        "Print a signed URL for a stack deployed with -p SigningKey=... (the key is never shown).",
    ),
    Entry("images", "cli.commands.images:app", "Images", "Browse, upload, download and delete images."),
    Entry(
        "cdn",
        "cli.commands.cdn:app",
        "Images",
        "The CDN in front of the images: invalidate paths, show its state.",
    ),
)


def load(entry: Entry) -> Any:
    """The click command of an entry, as `app.command(...)` or `app.add_typer(...)` would make it."""
    module, attribute = entry.target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(add_completion=False)
    holder.callback()(_nothing)  # a group, so the command keeps its name
    if isinstance(found, typer.Typer):
        holder.add_typer(found, name=entry.name, rich_help_panel=entry.panel)
    else:
        holder.command(entry.name, rich_help_panel=entry.panel)(found)
    return typer.main.get_command(holder).commands[entry.name]  # type: ignore[attr-defined]


def _nothing() -> None:
    pass


class Listed(TyperCommand):
    """A command as `resizer --help` lists it, before its module is imported."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(entry.name, help=entry.summary, rich_help_panel=entry.panel)
        self.entry = entry


class LazyGroup(TyperGroup):
    """The root group: lists every command from ``COMMANDS``, imports one when it is chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = {entry.name: Listed(entry) for entry in COMMANDS} | dict(self.commands)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, Listed):
            command = self.commands[command.name] = load(command.entry)  # type: ignore[index]
        return name, command, rest


app = typer.Typer(
    cls=LazyGroup,
    help="On-demand image resizing on AWS Lambda: deploy, run and watch it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version(distribution: str) -> str:
    from importlib.metadata import version as installed  # 0.1 s to import: only when asked

    return installed(distribution)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"resizer {version('lambda-resizer')}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """On-demand image resizing on AWS Lambda.

    Targets AWS through the standard credential chain (--profile, --region, environment).
    """
    if debug:
        os.environ["RESIZER_DEBUG"] = "1"
    ctx.obj = Common(profile, region, endpoint_url, stack, output)


def version_command() -> None:
    """Print the version."""
    typer.echo(f"resizer {version('lambda-resizer')}")


def main() -> None:
    try:
        app(prog_name="resizer")
    except BrokenPipeError:  # help or output written outside a command, to a closed pipe
        from cli.errors import quiet_closed_stdout

        quiet_closed_stdout()
        raise SystemExit(0) from None
    except KeyboardInterrupt:
        from cli.errors import INTERRUPTED

        raise SystemExit(INTERRUPTED) from None
