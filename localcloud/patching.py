"""Patches on moto's classes and modules, recorded so that they can be undone.

The local cloud installs its fidelity fixes in process (the server, and the tests that run moto
in process); ``Patches`` keeps what each attribute held so ``undo`` gives moto back exactly.
"""

import threading
from typing import Any

_ABSENT = object()


class Patches:
    """A group of attribute patches, undone together in reverse order."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._originals: list[tuple[Any, str, Any]] = []  # (owner, name, what owner.__dict__ held)

    @property
    def active(self) -> bool:
        return bool(self._originals)

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._originals.append((owner, name, owner.__dict__.get(name, _ABSENT)))
        setattr(owner, name, value)

    def undo(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
