"""`resizer package`: build the function's zip (and optionally publish it) without deploying."""

from typing import Annotated

import typer

from cli import context, render
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import jsonable
from operations import package as package_op


@handles_errors
@targeted()
def package(
    platform: Annotated[
        str, typer.Option(help="arm64 or x86_64 (AWS Lambda), or local (the local cloud).")
    ] = ("arm64"),
    publish: Annotated[bool, typer.Option("--publish", help="Upload it to the artifacts bucket.")] = False,
    *,
    options: Common,
) -> None:
    """Build the deterministic function zip: the same sources give the same bytes and sha256.

    Examples: resizer package · resizer package --platform x86_64 --publish
    """
    with render.err.status(f"Building the function zip for {platform}..."):
        artifact = package_op.build(platform)
    published = None
    if publish:
        settings = context.settings(options)
        published = package_op.publish(context.clients(settings), artifact)
    if options.json:
        render.emit_json(jsonable.packaged(artifact, published))
        return
    render.out.print(
        render.key_values(
            {
                "zip": artifact.path,
                "platform": artifact.platform,
                "size": f"{artifact.size:,} bytes ({artifact.files} files)",
                "sha256": artifact.sha256,
            }
        )
    )
    if published:
        state = "uploaded" if published.uploaded else "already there"
        render.out.print(f"s3://{published.bucket}/{published.key} ({state})")
