"""Showing a stream of stack events (deploy, destroy) live, or as JSON lines."""

from collections.abc import Iterable

from cli import render
from operations import jsonable
from operations.destroy import Removed
from operations.stack import Settled, StackEvent


def show(events: Iterable, as_json: bool, waiting: str) -> Settled | None:
    """Print each event as it arrives; the Settled event is returned, not printed."""
    settled = None
    with render.err.status(waiting) if not as_json else _Nothing():
        for event in events:
            if isinstance(event, Settled):
                settled = event
                if as_json:
                    render.emit_json({"event": "settled", **jsonable.settled(event)})
            elif isinstance(event, StackEvent):
                if as_json:
                    render.emit_json({"event": "stack_event", **jsonable.stack_event(event)})
                else:
                    render.out.print(line(event))
            elif isinstance(event, Removed):
                if as_json:
                    render.emit_json({"event": "removed", **jsonable.removed(event)})
                else:
                    render.out.print(f"[dim]removed[/] {render.safe(event.what)}")
    return settled


def line(event: StackEvent) -> str:
    reason = f"  [dim]{render.safe(event.reason)}[/]" if event.reason else ""
    return (
        f"[dim]{event.timestamp:%H:%M:%S}[/]  {event.logical_id:<24} [dim]{event.resource_type:<32}[/] "
        f"{render.styled_status(event.status)}{reason}"
    )


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
