"""`resizer console`: the web console, run as its own process (`python -m console`).

cli/ never imports console/: this command resolves the target as every command does (so a broken
resizer.toml fails here), then starts the console with the same options; the console prints its
URL and login token, and enforces its loopback-only default.
"""

from typing import Annotated

import typer

from cli import context
from cli.errors import handles_errors
from cli.options import EndpointUrl, Profile, Region, Stack, common
from operations import console_process


@handles_errors
def console(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless --allow-remote).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="RESIZER_CONSOLE_PORT", help="Port to listen on.")] = 8080,
    new_token: Annotated[
        bool, typer.Option("--new-token", help="Replace the stored login token (ends every session).")
    ] = False,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a non-loopback --host (needs RESIZER_CONSOLE_TOKEN; put TLS in front).",
        ),
    ] = False,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
) -> None:
    """Run the web console: deploy, status, images, invoke, logs and metrics in a browser.

    It listens on 127.0.0.1 and asks for the token it prints (or RESIZER_CONSOLE_TOKEN); the token is
    kept in .resizer/console/ (readable by you only) for the next start, and by `resizer up`.
    Examples: resizer console · resizer console --port 8090 --stack photos
    """
    options = common(ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack)
    context.settings(options)  # a broken resizer.toml fails here, before anything listens
    argv = console_process.command_line(
        port,
        host=host,
        stack=options.stack,
        region=options.region,
        profile=options.profile,
        endpoint_url=options.endpoint_url,
        allow_remote=allow_remote,
        new_token=new_token,
    )
    code = console_process.run(argv)
    if code:
        raise typer.Exit(code)
