"""`resizer console`: the web console (console/) over the same operations, on a loopback port.

The only place cli/ touches console/, and only when the command runs (so `resizer --help` never
imports FastAPI). The login token is printed once, here; the console never logs or shows it.
"""

import contextlib
import ipaddress
import os
from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import EndpointUrl, Profile, Region, Stack, common
from operations.errors import ConfigError

TOKEN_ENV = "RESIZER_CONSOLE_TOKEN"


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@handles_errors
def console(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback unless --allow-remote).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote", help=f"Allow a non-loopback --host (needs {TOKEN_ENV}; put TLS in front of it)."
        ),
    ] = False,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
) -> None:
    """Run the web console: deploy, status, images, invoke, logs and metrics in a browser.

    It listens on 127.0.0.1 and asks for the token printed here (or RESIZER_CONSOLE_TOKEN).
    Examples: resizer console · resizer console --port 8090 --stack photos
    """
    options = common(ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack)
    if not loopback(host) and not (allow_remote and os.environ.get(TOKEN_ENV)):
        raise ConfigError(
            f"refusing to listen on {host}: the console only listens on loopback by default",
            hint=f"pass --allow-remote and set {TOKEN_ENV} (and serve it behind TLS) to listen there",
        )
    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a TCP port")
    found = context.settings(options)  # a broken resizer.toml fails here, before anything listens
    clients = context.clients(found)
    from console.app import ConsoleSettings, serve

    settings = ConsoleSettings(
        host=host,
        port=port,
        stack=options.stack,
        region=options.region,
        profile=options.profile,
        endpoint_url=options.endpoint_url,
    )
    where = clients.endpoint_url or "AWS"
    render.out.print(
        f"Console for stack [bold]{found.target.stack}[/] "
        f"({clients.session.region_name or 'no region'}, {where})"
    )
    render.out.print(f"Open [bold]{settings.url}/[/] and log in with the token:")
    if os.environ.get(TOKEN_ENV):
        render.out.print(f"  (the value of {TOKEN_ENV})")
    else:
        render.out.print(f"  {settings.token}", highlight=False)
    if not loopback(host):
        render.note("Listening beyond loopback over plain HTTP: put a TLS proxy in front of it.")
    render.out.print("[dim]Ctrl-C stops the console.[/]")
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings)
