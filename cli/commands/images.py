"""`resizer images ls|put|get|rm|purge`: the originals and derived sizes in the images bucket."""

from pathlib import Path
from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import EndpointUrl, Output, Profile, Region, Stack, common
from operations import images as images_op
from operations.errors import ConfigError

app = typer.Typer(help="Browse, upload, download and delete images.", no_args_is_help=True)


def _bucket(ctx: typer.Context, **given: object) -> tuple:
    options = common(ctx, **given)
    settings = context.settings(options)
    clients = context.clients(settings)
    return options, clients, images_op.bucket_of(clients, settings.target.stack)


@app.command("ls")
@handles_errors
def ls(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="Only keys starting with this.")] = "",
    kind: Annotated[str, typer.Option(help="all, originals or derived.")] = "all",
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
) -> None:
    """List images. Examples: resizer images ls · resizer images ls --kind derived 300x200/"""
    options, clients, bucket = _bucket(
        ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack, output=output
    )
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
def put(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A JPEG, PNG, WebP or GIF file.")],
    key: Annotated[str | None, typer.Argument(help="Object key [default: the file name].")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing original.")] = False,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
) -> None:
    """Upload an original. Example: resizer images put cat.jpg albums/cat.jpg"""
    options, clients, bucket = _bucket(
        ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack, output=output
    )
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
def get(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Object key, original or derived.")],
    destination: Annotated[
        Path | None, typer.Argument(help="File to write [default: the key's name].")
    ] = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
) -> None:
    """Download an image. Example: resizer images get 300x200/cat.jpg thumb.jpg"""
    options, clients, bucket = _bucket(
        ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack, output=output
    )
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
def rm(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Object key.")],
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
) -> None:
    """Delete one object. Example: resizer images rm albums/cat.jpg"""
    options, clients, bucket = _bucket(
        ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack, output=output
    )
    images_op.remove(clients, bucket, key)
    if options.json:
        render.emit_json({"deleted": key})
    else:
        render.out.print(f"Deleted {render.safe(key)}")


@app.command("purge")
@handles_errors
def purge(
    ctx: typer.Context,
    spec: Annotated[str, typer.Argument(help="A derived size, e.g. 300x200 or 300x200,webp.")],
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    stack: Stack = None,
    output: Output = None,
) -> None:
    """Delete every image of one derived size; never an original.

    Example: resizer images purge 300x200
    """
    options, clients, bucket = _bucket(
        ctx, profile=profile, region=region, endpoint_url=endpoint_url, stack=stack, output=output
    )
    count = images_op.purge(clients, bucket, spec)
    if options.json:
        render.emit_json({"spec": spec, "deleted": count})
    else:
        render.out.print(f"Purged {count} object(s) of size {render.safe(spec)}")
