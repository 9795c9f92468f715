"""`resizer logs`: the functions' logs (resize, cleanup or both) for a time range, filtered, grouped by
request, or followed."""

import time
from enum import StrEnum
from typing import Annotated

import typer

from cli import context, render
from cli.commands import log_lines
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import functions as functions_op
from operations import jsonable
from operations import logs as logs_op


class Which(StrEnum):
    """The choices of --function (operations.functions.CHOICES)."""

    resize = "resize"
    cleanup = "cleanup"
    all = "all"


@handles_errors
@targeted()
def logs(
    since: Annotated[str, typer.Option(help="Start: 10m, 2h, 1d, 1w or ISO 8601.")] = "10m",
    until: Annotated[str | None, typer.Option(help="End (default now); not with --follow.")] = None,
    filter_pattern: Annotated[
        str, typer.Option("--filter", help="CloudWatch filter pattern, e.g. '{ $.status >= 400 }' or ERROR.")
    ] = "",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    group: Annotated[bool, typer.Option(help="Group each request's lines START..REPORT.")] = True,
    function: Annotated[
        Which,
        typer.Option(
            "--function",
            help="Whose lines: resize, cleanup or all. All (the default) interleaves both by time, each "
            "line naming its function, because a resized image that vanishes or a 404 after an upload "
            "is the two working together; stacks without a cleanup function show the resize lines.",
        ),
    ] = Which.all,
    *,
    options: Common,
) -> None:
    """Show the functions' logs. A function that never ran has no logs yet (not an error).

    Examples: resizer logs --since 1h · resizer logs -f --function cleanup ·
    resizer logs --filter '{ $.status = 404 }' -o json
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    sources = functions_op.of_stack(clients, settings.target.stack, function.value)
    start = logs_op.parse_time(since)
    if follow:
        stream = logs_op.follow(
            clients,
            sources,
            start=start,
            pattern=filter_pattern,
            sleep=time.sleep,  # follow tails live on AWS (StartLiveTail) and polls other endpoints
            on_sampled=_say_sampled,
        )
    else:
        end = logs_op.parse_time(until) if until else None
        stream = logs_op.merged(clients, sources, start=start, end=end, pattern=filter_pattern)
    shown = 0
    if options.json:
        for event in stream:
            render.emit_json(jsonable.log_event(event))
            shown += 1
        return
    items = stream if follow or not group else logs_op.grouped(stream)
    for item in items:
        if isinstance(item, logs_op.RequestLog):
            for text in log_lines.request(item):
                render.out.print(text)
        else:
            render.out.print(log_lines.line(item))
        shown += 1
    if not shown:
        groups = ", ".join(s.log_group for s in sources)
        render.note(f"no log lines in {groups} since {start:%Y-%m-%d %H:%M:%S} UTC")


def _say_sampled(sampled: bool) -> None:
    if sampled:
        render.note("CloudWatch is sampling this live tail (over 500 lines/s): some lines are not shown")
    else:
        render.note("CloudWatch has stopped sampling: every line is shown again")
