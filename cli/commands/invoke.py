"""`resizer invoke` and `resizer resize`: run the function once and show everything about it."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import context, render
from cli.commands import log_lines
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import functions, jsonable, redirects
from operations import invoke as invoke_op
from operations.errors import ConfigError


@handles_errors
@targeted()
def invoke(
    payload: Annotated[str | None, typer.Argument(help="JSON payload, @file.json, or - for stdin.")] = None,
    function: Annotated[str | None, typer.Option(help="Function name (default: the stack's).")] = None,
    save: Annotated[
        Path | None, typer.Option(help="Write the image to this file (following a redirect to it).")
    ] = None,
    *,
    options: Common,
) -> None:
    """Invoke the function once (never retried) and show its response, REPORT and logs.

    Examples: resizer invoke @event.json · cat event.json | resizer invoke -
    """
    _run(options, _payload(payload), function, save)


@handles_errors
@targeted()
def resize(
    path: Annotated[str, typer.Argument(help="What a browser would ask for, e.g. 300x200/photo.jpg.")],
    save: Annotated[
        Path | None, typer.Option(help="Write the image to this file (following a redirect to it).")
    ] = None,
    *,
    options: Common,
) -> None:
    """Invoke the function with the API Gateway event for one path, as the website's redirect does.

    Exits 1 when the function answers an error (4xx/5xx) or fails.

    Examples: resizer resize 300x200/photo.jpg · resizer resize x600,webp/albums/cat.jpg --save cat.webp
    """
    _run(options, json.dumps(invoke_op.resize_event(path)).encode(), None, save)


def _payload(text: str | None) -> bytes:
    if text is None or text == "-":
        if text is None and sys.stdin.isatty():
            return b"{}"
        return sys.stdin.buffer.read()
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {text[1:]}: {exc.strerror}") from None
    return text.encode()


def _run(options: Common, payload: bytes, function: str | None, save: Path | None) -> None:
    settings = context.settings(options)
    clients = context.clients(settings)
    if function:  # named: no stack needed (Lambda's default log group)
        name, group = function, functions.log_group(function)
    else:
        name, group = invoke_op.target_function(clients, settings.target.stack)
    with render.err.status(f"Invoking {name}..."):
        result = invoke_op.invoke(clients, name, payload, log_group=group)
    http = result.http
    answered_error = result.function_error is not None or (http is not None and http.status >= 400)
    if answered_error:
        save = None  # nothing to save: the answer is shown, and the exit status says it failed
    if save is not None:
        image = http
        target = redirects.location(http) if http is not None else None
        if target:  # the default stack stores the image and redirects to it: fetch it from there
            image = redirects.fetch(target)
        if image is None or not image.content_type.startswith("image/"):
            raise ConfigError(
                "the response is not an image"
                + (f" (HTTP {http.status})" if http is not None else " (not an HTTP response)"),
                hint="the function answers resize paths such as 300x200/photo.jpg",
            )
        save.write_bytes(image.body)
    if options.json:
        render.emit_json(jsonable.invoke_result(result))
    else:
        _show(result, http, save)
    if answered_error:
        raise typer.Exit(1)  # a crash, or an error answer (4xx/5xx): scripts must see it failed


def _show(result: invoke_op.InvokeResult, http, save: Path | None) -> None:
    status = f"[red]{result.function_error}[/]" if result.function_error else "[green]OK[/]"
    render.out.print(f"Request {result.request_id}  {status}")
    if http is not None:
        render.out.print(f"HTTP {http.status}")
        for key, value in http.headers.items():
            render.out.print(f"  {render.safe(key)}: {render.safe(value)}")
        if http.content_type.startswith("image/"):
            render.out.print(f"  [dim]({len(http.body):,} bytes of {render.safe(http.content_type)})[/]")
        elif http.body:
            render.out.print(f"  {render.safe(http.body.decode('utf-8', 'replace'))}")
    else:
        render.out.print(result.payload.decode("utf-8", "replace"))
    if result.report:
        r = result.report
        figures = {
            "duration": f"{r.duration_ms:.2f} ms",
            "billed": f"{r.billed_ms:.0f} ms",
            "memory": f"{r.max_memory_mb:.0f} / {r.memory_mb:.0f} MB",
        }
        if r.init_ms is not None:
            figures["init"] = f"{r.init_ms:.2f} ms (cold start)"
        render.out.print(render.key_values(figures, title="Report"))
    if save:
        render.out.print(f"Saved {render.safe(save)}")
    render.out.print("[bold underline]Logs[/]")
    for event in result.log:
        render.out.print(log_lines.line(event, show_stream=False))
