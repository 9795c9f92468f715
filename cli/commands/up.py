"""`resizer up`: the local cloud, the deployed stack and a sample photo, until Ctrl-C."""

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from cli import render
from cli.commands import deploy as deploy_cmd
from cli.commands import stack_events
from cli.errors import handles_errors
from operations import console_process, local
from operations import deploy as deploy_op


@handles_errors
def up(
    port: Annotated[
        int, typer.Option(envvar="RESIZER_LOCAL_PORT", help="Loopback port of the local cloud.")
    ] = 4566,
    data: Annotated[
        Path, typer.Option(help="Where the local cloud keeps its state.")
    ] = local.DEFAULT_DATA_DIR,
    reset: Annotated[bool, typer.Option("--reset", help="Start from an empty local cloud.")] = False,
    restore_previous: Annotated[
        bool,
        typer.Option("--restore-previous", help="Start from the last readable saved state."),
    ] = False,
    console_port: Annotated[
        int, typer.Option(envvar="RESIZER_CONSOLE_PORT", help="Port of the web console next to it.")
    ] = 8080,
    with_console: Annotated[
        bool, typer.Option("--console/--no-console", help="Start the web console.")
    ] = True,
) -> None:
    """Run the whole service on this machine: a local AWS endpoint, the stack, a sample photo.

    Examples: resizer up · resizer up --reset · RESIZER_LOCAL_PORT=4600 resizer up
    """
    signal.signal(signal.SIGTERM, _interrupt)  # stop (and save) on SIGTERM as on Ctrl-C
    # AlreadyRunning (exit 12) names the running one; LocalStateUnreadable (exit 13) names the file
    handle = local.start(port, data, reset=reset, restore_previous=restore_previous)
    console = None
    try:
        render.out.print(f"Local cloud listening on [bold]{handle.endpoint_url}[/] (state in {data})")
        python = handle.lambda_python
        render.out.print(f"Lambda functions run under {render.safe(python.describe())}")
        if python.warning:
            render.err.print(f"[bold yellow]warning:[/] {render.safe(python.warning)}")
        ready = None
        with render.err.status("Deploying the stack into the local cloud..."):
            for event in local.provision(handle.endpoint_url):
                if isinstance(event, deploy_op.Plan):
                    verb = "up to date" if event.no_changes else f"{event.change_set_type.lower()}"
                    render.out.print(f"Stack {event.stack}: {verb}")
                    for bucket in event.retained_buckets:  # what the earlier stack left, said plainly
                        render.out.print(f"note: {deploy_cmd.retained_note(event.stack, bucket)}")
                elif isinstance(event, local.SampleUploaded):
                    render.out.print(f"Uploaded a generated sample photo: {event.key} ({event.size:,} bytes)")
                elif isinstance(event, local.Ready):
                    ready = event
                else:
                    stack_events.show([event], False, "")
        if ready:
            show_ready(ready)
        if with_console:
            console = start_console(handle.endpoint_url, console_port)
        render.out.print("[dim]Ctrl-C stops the local cloud.[/]")
        threading.Event().wait()
    except KeyboardInterrupt:
        render.out.print("Stopping the local cloud...")
    finally:
        if console is not None:
            console_process.stop(console)
        handle.stop()


def start_console(endpoint_url: str, port: int) -> console_process.Started | None:
    """The web console (its own process, ending with this one) on 127.0.0.1:port, targeting the
    local cloud; only once the process listening on the port is the one started here."""
    try:
        started = console_process.start(endpoint_url, port, local.LOCAL_REGION)
    except console_process.ConsoleDidNotStart as failed:
        render.error(failed.message, failed.hint)
        return None
    render.out.print(f"console   {started.url}  (token: {started.token})")
    return started


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def show_ready(ready: local.Ready) -> None:
    rows = {
        "original": ready.sample_url,
        "resized": ready.resized_url,
        "cdn": ready.outputs.get("CdnUrl"),  # cdn delivery (the default)
        "website": ready.outputs.get("WebsiteUrl"),  # website delivery
        "api": ready.outputs.get("ApiUrl"),
        "bucket": ready.outputs.get("BucketName"),
        "endpoint": ready.endpoint_url,
    }
    render.out.print(render.key_values({k: v for k, v in rows.items() if v is not None}, title="Ready"))
    render.out.print(
        "AWS CLI: AWS_ACCESS_KEY_ID=localcloud AWS_SECRET_ACCESS_KEY=localcloud AWS_DEFAULT_REGION=us-east-1 "
        f"aws --endpoint-url {ready.endpoint_url} s3 ls s3://{ready.outputs.get('BucketName')}"
    )
