"""`resizer cdn invalidate|status`: the CloudFront distribution in front of the images (cdn delivery)."""

from typing import Annotated

import typer

from cli import context, render
from cli.commands.cdn_lines import invalidation_line
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import cdn as cdn_op
from operations import jsonable

app = typer.Typer(
    help="The CDN in front of the images: invalidate paths, show its state.", no_args_is_help=True
)


def _distribution(options: Common) -> tuple:
    settings = context.settings(options)
    clients = context.clients(settings)
    delivery = cdn_op.delivery(clients, settings.target.stack)
    return clients, delivery, cdn_op.require_cdn(delivery, settings.target.stack)


@app.command("invalidate")
@handles_errors
@targeted()
def invalidate(
    paths: Annotated[list[str], typer.Argument(help="URL paths, e.g. /300x200/cat.jpg or '/300x200/*'.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until CloudFront reports it Completed.")] = False,
    *,
    options: Common,
) -> None:
    """Invalidate CDN paths (one invalidation for all of them).

    Examples: resizer cdn invalidate /300x200/cat.jpg · resizer cdn invalidate '/300x200/*'
    """
    encoded = [cdn_op.user_path(p) for p in paths]
    clients, _, distribution = _distribution(options)
    found = cdn_op.invalidate(clients, distribution, encoded)
    if wait:
        found = cdn_op.wait(clients, distribution, found.id)
    if options.json:
        render.emit_json(jsonable.invalidated(distribution, found))
    else:
        render.out.print(invalidation_line(found))


@app.command("status")
@handles_errors
@targeted()
def status(
    recent: Annotated[
        int, typer.Option("--recent", min=0, max=100, help="How many invalidations to show.")
    ] = 5,
    *,
    options: Common,
) -> None:
    """Show the distribution: status, domain and aliases, the CDN URL and recent invalidations.

    Example: resizer cdn status
    """
    clients, delivery, distribution = _distribution(options)
    found = cdn_op.distribution(clients, distribution, recent=recent)
    if options.json:
        render.emit_json(jsonable.cdn_status(delivery, found))
        return
    render.out.print(
        render.key_values(
            {
                "distribution": found.id,
                "status": found.status + ("" if found.enabled else " (disabled)"),
                "domain": found.domain,
                "aliases": ", ".join(found.aliases) or "-",
                "CDN URL": delivery.cdn_url or "-",
            },
            title="CDN",
        )
    )
    if found.invalidations:
        table = render.table("invalidation", "status", "created", "paths", title="Recent invalidations")
        for item in found.invalidations:
            created = f"{item.created:%Y-%m-%d %H:%M:%S}" if item.created else "-"
            table.add_row(
                render.safe(item.id), render.safe(item.status), created, render.safe(", ".join(item.paths))
            )
        render.out.print(table)
    else:
        render.note("no invalidations yet")
