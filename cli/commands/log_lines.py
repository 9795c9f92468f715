"""Rendering log events: timestamps, the runtime's START/END/REPORT lines, JSON pretty-printed."""

import json

from rich.markup import escape

from operations.logs import LogEvent, RequestLog

FUNCTION_STYLES = {"resize": "blue", "cleanup": "magenta"}


def line(event: LogEvent, show_stream: bool = True) -> str:
    stamp = f"[dim]{event.timestamp:%H:%M:%S.%f}"[:-3] + "[/]"
    function = ""
    if event.function:  # which function wrote it, padded so that the columns line up
        function = f" [{FUNCTION_STYLES.get(event.function, 'dim')}]{escape(event.function):<7}[/]"
    stream = f" [dim]{event.stream[-8:]}[/]" if show_stream and event.stream else ""
    marker = event.request_marker
    data = event.json_without_emf
    if marker:
        style = {"START": "cyan", "END": "cyan", "REPORT": "bold cyan"}[marker[0]]
        text = f"[{style}]{escape(event.message)}[/]"
    else:
        style = "red" if event.is_error else "yellow" if event.level in ("WARN", "WARNING") else ""
        shown = event.message if data is None else json.dumps(data, indent=2, default=str)
        text = f"[{style}]{escape(shown)}[/]" if style else escape(shown)
    return f"{stamp}{function}{stream} {text}"


def request(group: RequestLog) -> list[str]:
    return [line(e) for e in group.events] + [""]
