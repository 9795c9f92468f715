"""`resizer images ls|put|get|rm|purge`: the originals and derived sizes in the images bucket."""

from pathlib import Path
from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import images as images_op
from operations.errors import ConfigError

app = typer.Typer(help="Browse, upload, download and delete images.", no_args_is_help=True)


def _bucket(options: Common) -> tuple:
    settings = context.settings(options)
    clients = context.clients(settings)
    return clients, images_op.bucket_of(clients, settings.target.stack)


@app.command("ls")
@handles_errors
@targeted()
def ls(
    prefix: Annotated[str, typer.Argument(help="Only keys starting with this.")] = "",
    kind: Annotated[str, typer.Option(help="all, originals or derived.")] = "all",
    *,
    options: Common,
) -> None:
    """List images. Examples: resizer images ls · resizer images ls --kind derived 300x200/"""
    clients, bucket = _bucket(options)
    found = list(images_op.listing(clients, bucket, prefix=prefix, kind=kind))
    if options.json:
        render.emit_json({"bucket": bucket, "images": found})
        return
    table = render.table("key", "bytes", "modified", "kind")
    for item in found:
        table.add_row(
            render.safe(item.key),
            f"{item.size:,}",
            f"{item.last_modified:%Y-%m-%d %H:%M}",
            render.safe(item.spec) or "original",
        )
    render.out.print(table)
    render.note(f"{len(found)} object(s) in {bucket}")


@app.command("put")
@handles_errors
@targeted()
def put(
    file: Annotated[Path, typer.Argument(help="A JPEG, PNG, WebP or GIF file.")],
    key: Annotated[str | None, typer.Argument(help="Object key (default: the file name).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing original.")] = False,
    *,
    options: Common,
) -> None:
    """Upload an original. Example: resizer images put cat.jpg albums/cat.jpg"""
    clients, bucket = _bucket(options)
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    stored = images_op.put(clients, bucket, key or file.name, body, overwrite=overwrite)
    if options.json:
        render.emit_json(stored)
    else:
        render.out.print(f"Uploaded {render.safe(stored.key)} ({stored.size:,} bytes) to {bucket}")


@app.command("get")
@handles_errors
@targeted()
def get(
    key: Annotated[str, typer.Argument(help="Object key, original or derived.")],
    destination: Annotated[
        Path | None, typer.Argument(help="File to write (default: the key's name).")
    ] = None,
    *,
    options: Common,
) -> None:
    """Download an image. Example: resizer images get 300x200/cat.jpg thumb.jpg"""
    clients, bucket = _bucket(options)
    found = images_op.get(clients, bucket, key)
    target = destination or Path(key.rsplit("/", 1)[-1])
    target.write_bytes(found.body)
    if options.json:
        render.emit_json(
            {"key": key, "file": str(target), "bytes": len(found.body), "content_type": found.content_type}
        )
    else:
        render.out.print(
            f"Wrote {render.safe(target)} ({len(found.body):,} bytes, {render.safe(found.content_type)})"
        )


@app.command("rm")
@handles_errors
@targeted()
def rm(
    key: Annotated[str, typer.Argument(help="Object key.")],
    *,
    options: Common,
) -> None:
    """Delete one object. Example: resizer images rm albums/cat.jpg"""
    clients, bucket = _bucket(options)
    images_op.remove(clients, bucket, key)
    if options.json:
        render.emit_json({"deleted": key})
    else:
        render.out.print(f"Deleted {render.safe(key)}")


@app.command("purge")
@handles_errors
@targeted()
def purge(
    spec: Annotated[str, typer.Argument(help="A derived size, e.g. 300x200 or 300x200,webp.")],
    *,
    options: Common,
) -> None:
    """Delete every image of one derived size; never an original.

    Example: resizer images purge 300x200
    """
    clients, bucket = _bucket(options)
    count = images_op.purge(clients, bucket, spec)
    if options.json:
        render.emit_json({"spec": spec, "deleted": count})
    else:
        render.out.print(f"Purged {count} object(s) of size {render.safe(spec)}")
