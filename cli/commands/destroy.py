"""`resizer destroy`: delete the stack and its code; keep the images unless asked to delete them."""

import sys
from typing import Annotated

import typer

from cli import context, render
from cli.commands import stack_events
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import destroy as destroy_op
from operations import jsonable
from operations.errors import Cancelled


@handles_errors
@targeted()
def destroy(
    delete_images: Annotated[
        bool, typer.Option("--delete-images", help="Also empty and delete the images bucket (irreversible).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    *,
    options: Common,
) -> None:
    """Delete the stack. The images bucket and its images are kept unless --delete-images.

    Examples: resizer destroy · resizer destroy --yes · resizer destroy --delete-images
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    planned = destroy_op.plan(clients, settings.target.stack, delete_images=delete_images)
    if options.json:
        render.emit_json({"event": "plan", **jsonable.destroy_plan(planned)})
    else:
        for item in planned.deleted:
            render.out.print(f"[red]delete[/] {render.safe(item)}")
        for item in planned.kept:
            render.out.print(f"[green]keep[/]   {render.safe(item)}")
    if not yes:
        if not sys.stdin.isatty():
            raise Cancelled(
                "not destroying without confirmation", hint="pass --yes to destroy non-interactively"
            )
        prompt = (
            f"Type the stack name ({planned.stack}) to delete it" if delete_images else "Delete the stack?"
        )
        if delete_images:
            if typer.prompt(prompt, default="") != planned.stack:
                raise Cancelled("destroy cancelled")
        elif not typer.confirm(prompt, default=False):
            raise Cancelled("destroy cancelled")
    settled = stack_events.show(destroy_op.destroy(clients, planned), options.json, "Deleting...")
    if settled and not options.json:
        render.out.print(f"[green]Destroyed[/] {planned.stack}.")
        for item in planned.kept:
            render.out.print(f"Kept {render.safe(item)}.")
