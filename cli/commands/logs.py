"""`resizer logs`: the function's logs for a time range, filtered, grouped by request, or followed."""

import time
from typing import Annotated

import typer

from cli import context, render
from cli.commands import log_lines
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import invoke as invoke_op
from operations import jsonable
from operations import logs as logs_op


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
    *,
    options: Common,
) -> None:
    """Show the function's logs. A function that never ran has no logs yet (not an error).

    Examples: resizer logs --since 1h · resizer logs -f · resizer logs --filter '{ $.status = 404 }' -o json
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    _, log_group = invoke_op.target_function(clients, settings.target.stack)
    start = logs_op.parse_time(since)
    if follow:
        stream = logs_op.follow(
            clients,
            log_group,
            start=start,
            pattern=filter_pattern,
            sleep=time.sleep,  # follow tails live on AWS (StartLiveTail) and polls other endpoints
            on_sampled=_say_sampled,
        )
    else:
        end = logs_op.parse_time(until) if until else None
        stream = logs_op.events(clients, log_group, start=start, end=end, pattern=filter_pattern)
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
        render.note(f"no log lines in {log_group} since {start:%Y-%m-%d %H:%M:%S} UTC")


def _say_sampled(sampled: bool) -> None:
    if sampled:
        render.note("CloudWatch is sampling this live tail (over 500 lines/s): some lines are not shown")
    else:
        render.note("CloudWatch has stopped sampling: every line is shown again")
