"""Rendering for the terminal (rich) and for scripts (JSON): the only place the CLI prints."""

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from operations import jsonable

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

STATUS_STYLES = (("FAILED", "bold red"), ("ROLLBACK", "yellow"), ("COMPLETE", "green"), ("PROGRESS", "cyan"))
ACTION_STYLES = {"Add": "green", "Modify": "yellow", "Remove": "red"}


def safe(value: object) -> str:
    """Text from users or AWS (keys, reasons, messages), made inert for rich markup."""
    return escape(str(value))


def error(message: str, hint: str = "") -> None:
    err.print(f"[bold red]error:[/] {safe(message)}", highlight=False)
    if hint:
        err.print(f"[dim]hint:[/] {safe(hint)}")


def note(message: str) -> None:
    err.print(f"[dim]{safe(message)}[/]")


def emit_json(value: Any) -> None:
    """One JSON line; shape it with operations.jsonable (the console's /api/* answer the same)."""
    sys.stdout.write(json.dumps(jsonable.plain(value), default=str) + "\n")
    sys.stdout.flush()


def styled_status(status: str) -> str:
    style = next((s for word, s in STATUS_STYLES if word in status), "")
    return f"[{style}]{status}[/]" if style else status


def table(*columns: str, title: str | None = None) -> Table:
    grid = Table(*columns, title=title, title_justify="left", show_edge=False, pad_edge=False)
    return grid


def key_values(rows: dict[str, Any], title: str | None = None) -> Text:
    """Aligned "key  value" lines; values are never wrapped, so URLs stay copyable."""
    width = max((len(k) for k in rows), default=0) + 2
    text = Text()
    if title:
        text.append(title + "\n", style="bold underline")
    for key, value in rows.items():
        text.append(f"{key:<{width}}", style="bold")
        text.append(("" if value is None else str(value)) + "\n")
    text.rstrip()
    return text
