"""The `resizer` Typer application: global options, and one command per module in cli/commands/."""

import os
from typing import Annotated

import typer

import cli.help_format  # noqa: F401 - flags without a <bool> type in --help
from cli.commands import cdn, images
from cli.commands.console import console
from cli.commands.deploy import deploy
from cli.commands.destroy import destroy
from cli.commands.invoke import invoke, resize
from cli.commands.logs import logs
from cli.commands.metrics import metrics
from cli.commands.package import package
from cli.commands.sign import sign
from cli.commands.status import status
from cli.commands.up import up
from cli.options import Common, EndpointUrl, Output, Profile, Region, Stack

app = typer.Typer(
    help="On-demand image resizing on AWS Lambda: deploy, run and watch it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(rich_help_panel="Local cloud")(up)
app.command(rich_help_panel="Stack")(package)
app.command(rich_help_panel="Stack")(deploy)
app.command(rich_help_panel="Stack")(status)
app.command(rich_help_panel="Stack")(destroy)
app.command(rich_help_panel="Function")(invoke)
app.command(rich_help_panel="Function")(resize)
app.command(rich_help_panel="Function")(logs)
app.command(rich_help_panel="Function")(metrics)
app.command(rich_help_panel="Images")(sign)
app.add_typer(images.app, name="images", rich_help_panel="Images")
app.add_typer(cdn.app, name="cdn", rich_help_panel="Images")
app.command(rich_help_panel="Console")(console)


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


@app.command("version", rich_help_panel="Other")
def version_command() -> None:
    """Print the version."""
    typer.echo(f"resizer {version('lambda-resizer')}")


def main() -> None:
    from cli.errors import INTERRUPTED, quiet_closed_stdout

    try:
        app(prog_name="resizer")
    except BrokenPipeError:  # help or output written outside a command, to a closed pipe
        quiet_closed_stdout()
        raise SystemExit(0) from None
    except KeyboardInterrupt:
        raise SystemExit(INTERRUPTED) from None
