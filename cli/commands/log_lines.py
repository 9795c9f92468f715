"""Rendering log events: timestamps, the runtime's START/END/REPORT lines, JSON pretty-printed."""

import json

from rich.markup import escape

from operations.logs import LogEvent, RequestLog


def line(event: LogEvent, show_stream: bool = True) -> str:
    stamp = f"[dim]{event.timestamp:%H:%M:%S.%f}"[:-3] + "[/]"
    stream = f" [dim]{event.stream[-8:]}[/]" if show_stream and event.stream else ""
    marker = event.request_marker
    data = event.json
    if marker:
        style = {"START": "cyan", "END": "cyan", "REPORT": "bold cyan"}[marker[0]]
        text = f"[{style}]{escape(event.message)}[/]"
    elif data is not None:
        body = {k: v for k, v in data.items() if k != "_aws"}
        level = str(body.get("level", "")).upper()
        style = {"ERROR": "red", "WARN": "yellow", "WARNING": "yellow"}.get(level, "")
        pretty = escape(json.dumps(body, indent=2, default=str))
        text = f"[{style}]{pretty}[/]" if style else pretty
    else:
        style = "red" if "[ERROR]" in event.message or "Traceback" in event.message else ""
        text = f"[{style}]{escape(event.message)}[/]" if style else escape(event.message)
    return f"{stamp}{stream} {text}"


def request(group: RequestLog) -> list[str]:
    return [line(e) for e in group.events] + [""]
