"""`resizer sign`: a signed URL for one path, with the key the stack's function reads from SSM."""

import time
from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import signing_key


@handles_errors
@targeted()
def sign(
    path: Annotated[str, typer.Argument(help="The image path, e.g. 300x200/photo.jpg (made canonical).")],
    expires: Annotated[
        int | None, typer.Option(help="Seconds the URL stays valid (default: until the key changes).")
    ] = None,
    *,
    options: Common,
) -> None:
    """Print a signed URL for a stack deployed with -p SigningKey=... (the key is never shown).

    Examples: resizer sign 300x200/photo.jpg · resizer sign x600,webp/albums/cat.jpg --expires 3600
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    signed = signing_key.signed_url(clients, settings.target.stack, path, expires_in=expires, now=time.time())
    if options.json:
        render.emit_json(signed)
        return
    typer.echo(signed.url)
