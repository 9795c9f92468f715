"""The Invoke page's saved test events: one pretty-printed JSON file per event in a folder.

The folder defaults to ``.resizer/console/events/`` under the working directory. A "resize" event
(the API Gateway event for GET /300x200/sample.jpg, as operations.invoke.resize_event builds it)
is always offered: until it is saved it is the built-in default, and deleting the saved one
brings the default back.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from operations import invoke
from operations.errors import ConfigError, NotFound

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DEFAULT_NAME = "resize"
DEFAULT_PATH = "300x200/sample.jpg"
MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class SavedEvent:
    name: str
    body: str
    saved: bool  # False for the built-in default not saved yet


def default_event() -> SavedEvent:
    return SavedEvent(DEFAULT_NAME, json.dumps(invoke.resize_event(DEFAULT_PATH), indent=2), saved=False)


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a valid event name", hint="letters, digits, '-' and '_', at most 64 characters"
        )
    return name


def check_body(body: str) -> str:
    """The body pretty-printed; ConfigError unless it is a JSON document of reasonable size."""
    if len(body.encode()) > MAX_BYTES:
        raise ConfigError(f"the event is over {MAX_BYTES // 1024} KB")
    try:
        value = json.loads(body or "{}")
    except ValueError as exc:
        raise ConfigError(f"the event is not JSON: {exc}") from None
    return json.dumps(value, indent=2)


class EventStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def all(self) -> list[SavedEvent]:
        found = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.json")):
                if NAME.fullmatch(path.stem):
                    found[path.stem] = SavedEvent(path.stem, path.read_text(errors="replace"), saved=True)
        if DEFAULT_NAME not in found:
            found[DEFAULT_NAME] = default_event()
        return sorted(found.values(), key=lambda e: e.name)

    def get(self, name: str) -> SavedEvent:
        path = self._path(name)
        if path.is_file():
            return SavedEvent(path.stem, path.read_text(errors="replace"), saved=True)
        if name == DEFAULT_NAME:
            return default_event()
        raise NotFound(f"no saved event {name!r}")

    def save(self, name: str, body: str) -> SavedEvent:
        path, text = self._path(name), check_body(body)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(text + "\n")
            tmp.replace(path)
        except OSError as exc:
            raise ConfigError(f"cannot save {path}: {exc.strerror}") from None
        return SavedEvent(path.stem, text + "\n", saved=True)

    def delete(self, name: str) -> None:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"no saved event {name!r}")
        path.unlink()
