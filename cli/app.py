"""The `resizer` Typer application; commands arrive with the operations they front."""

from importlib.metadata import version

import typer

app = typer.Typer(
    help="On-demand image resizing on AWS Lambda: deploy, run and watch it.", no_args_is_help=True
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"resizer {version('lambda-resizer')}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """On-demand image resizing on AWS Lambda."""


@app.command("version")
def version_command() -> None:
    """Print the version."""
    typer.echo(f"resizer {version('lambda-resizer')}")


def main() -> None:
    app()
