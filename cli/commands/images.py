"""`resizer images ls|put|get|rm|purge`: the originals and derived sizes in the images bucket."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import context, render
from cli.commands.cdn_lines import removal_lines
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import images as images_op
from operations import jsonable
from operations.errors import ConfigError

app = typer.Typer(help="Browse, upload, download and delete images.", no_args_is_help=True)
NoInvalidate = Annotated[
    bool,
    typer.Option("--no-invalidate", help="Do not invalidate the CDN paths of what is deleted."),
]


def _bucket(options: Common) -> tuple:
    settings = context.settings(options)
    clients = context.clients(settings)
    bucket, delivery = images_op.location(clients, settings.target.stack)
    return clients, bucket, delivery


@app.command("ls")
@handles_errors
@targeted()
def ls(
    prefix: Annotated[str, typer.Argument(help="Only keys starting with this.")] = "",
    kind: Annotated[str, typer.Option(help="all, originals or derived.")] = "all",
    stale: Annotated[
        bool,
        typer.Option("--stale", help="Only derived images whose original changed or is gone."),
    ] = False,
    *,
    options: Common,
) -> None:
    """List images. Examples: resizer images ls · resizer images ls --kind derived 300x200/ ·
    resizer images ls --stale"""
    clients, bucket, _ = _bucket(options)
    if stale:
        _ls_stale(clients, bucket, prefix, options)
        return
    found = list(images_op.listing(clients, bucket, prefix=prefix, kind=kind))
    if options.json:
        render.emit_json(jsonable.image_listing(bucket, found))
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


def _ls_stale(clients, bucket: str, prefix: str, options: Common) -> None:
    found = images_op.stale(clients, bucket, prefix=prefix)
    if options.json:
        render.emit_json(jsonable.stale_listing(bucket, found))
        return
    table = render.table("key", "bytes", "modified", "why")
    for item in found:
        why = "original is gone" if item.reason == "missing" else "original changed"
        table.add_row(
            render.safe(item.image.key),
            f"{item.image.size:,}",
            f"{item.image.last_modified:%Y-%m-%d %H:%M}",
            why,
        )
    render.out.print(table)
    render.note(
        f"{len(found)} stale derived image(s) in {bucket}" + (" (purge --stale removes them)" * bool(found))
    )


@app.command("put")
@handles_errors
@targeted()
def put(
    file: Annotated[Path, typer.Argument(help=f"A {images_op.accepted_described()} file.")],
    key: Annotated[str | None, typer.Argument(help="Object key (default: the file name).")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing original (and drop its derived sizes).")
    ] = False,
    no_invalidate: NoInvalidate = False,
    *,
    options: Common,
) -> None:
    """Upload an original. Example: resizer images put cat.jpg albums/cat.jpg"""
    clients, bucket, delivery = _bucket(options)
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    stored = images_op.put(
        clients,
        bucket,
        key or file.name,
        body,
        overwrite=overwrite,
        delivery=delivery,
        invalidate=not no_invalidate,
    )
    if options.json:
        render.emit_json(jsonable.uploaded(bucket, stored))
        return
    render.out.print(f"Uploaded {render.safe(stored.key)} ({stored.size:,} bytes) to {bucket}")
    if stored.replaced:
        count = len(stored.removal.derived)
        render.out.print(f"Replaced the previous {render.safe(stored.key)}: removed {count} derived image(s)")
        for line in removal_lines(stored.removal):
            render.out.print(line)


@app.command("get")
@handles_errors
@targeted()
def get(
    key: Annotated[str, typer.Argument(help="Object key, original or derived.")],
    destination: Annotated[
        str | None, typer.Argument(help="File to write, or - for stdout (default: the key's name).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    *,
    options: Common,
) -> None:
    """Download an image. Examples: resizer images get 300x200/cat.jpg thumb.jpg ·
    resizer images get cat.jpg - | identify -"""
    target = None if destination == "-" else _destination(key, destination, force)
    clients, bucket, _ = _bucket(options)
    found = images_op.get(clients, bucket, key)
    if target is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(found.body)
        sys.stdout.flush()
        return
    try:
        with target.open("wb" if force else "xb") as out:
            out.write(found.body)
    except FileExistsError:
        raise ConfigError(f"{target} exists", hint="pass --force to replace it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    if options.json:
        render.emit_json(
            {"key": key, "file": str(target), "bytes": len(found.body), "content_type": found.content_type}
        )
    else:
        render.out.print(
            f"Wrote {render.safe(target)} ({len(found.body):,} bytes, {render.safe(found.content_type)})"
        )


def _destination(key: str, given: str | None, force: bool) -> Path:
    """The file to write: the one given (into it if it is a folder), else the key's last segment."""
    name = key.rsplit("/", 1)[-1]
    usable = name not in ("", ".", "..") and "\\" not in name and not any(ord(c) < 32 for c in name)
    if given is None or Path(given).is_dir():
        if not usable:
            raise ConfigError(
                f"cannot name a file after the key {key!r}", hint="give a file name, or - for stdout"
            )
        target = Path(given or ".") / name
    else:
        target = Path(given)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder", hint="give a file name, or - for stdout")
    if target.exists() and not force:
        raise ConfigError(f"{target} exists", hint="pass --force to replace it")
    return target


@app.command("rm")
@handles_errors
@targeted()
def rm(
    key: Annotated[str, typer.Argument(help="Object key.")],
    no_invalidate: NoInvalidate = False,
    *,
    options: Common,
) -> None:
    """Delete one object; an original's derived sizes go with it.

    Example: resizer images rm albums/cat.jpg
    """
    clients, bucket, delivery = _bucket(options)
    removal = images_op.remove(clients, bucket, key, delivery=delivery, invalidate=not no_invalidate)
    if options.json:
        render.emit_json(jsonable.deleted(key, removal))
        return
    derived = len(removal.derived)
    render.out.print(f"Deleted {render.safe(key)}" + (f" and {derived} derived image(s)" if derived else ""))
    for line in removal_lines(removal):
        render.out.print(line)


@app.command("purge")
@handles_errors
@targeted()
def purge(
    spec: Annotated[
        str | None, typer.Argument(help="A derived size, e.g. 300x200 or 300x200,webp.", show_default=False)
    ] = None,
    stale: Annotated[
        bool, typer.Option("--stale", help="Instead: every derived image whose original changed or is gone.")
    ] = False,
    no_invalidate: NoInvalidate = False,
    *,
    options: Common,
) -> None:
    """Delete every image of one derived size (never an original), or the stale ones.

    Examples: resizer images purge 300x200 · resizer images purge --stale
    """
    if bool(spec) == stale:
        raise ConfigError("give a size or --stale (one of them)", hint="e.g. resizer images purge 300x200")
    clients, bucket, delivery = _bucket(options)
    invalidate = not no_invalidate
    if stale:
        removal = images_op.purge_stale(clients, bucket, delivery=delivery, invalidate=invalidate)
    else:
        removal = images_op.purge(clients, bucket, spec or "", delivery=delivery, invalidate=invalidate)
    if options.json:
        render.emit_json(jsonable.purged(spec or "", stale, removal))
        return
    what = "stale derived image(s)" if stale else f"object(s) of size {render.safe(spec)}"
    render.out.print(f"Purged {len(removal.deleted)} {what}")
    for line in removal_lines(removal):
        render.out.print(line)
