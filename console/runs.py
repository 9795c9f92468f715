"""Long operations (deploy execute, destroy) in background threads, replayable as event streams.

A Run drains an operations generator in its own thread and records each item as a plain dict:
``stack_event`` for a StackEvent, ``removed`` for destroy's Removed, and always exactly one final
``settled`` (``ok``, ``status``, ``root_cause`` and, on failure, ``error`` with DeployFailed's
resource and root cause): the shapes of operations.jsonable, as `resizer deploy -o json` prints.
The record is kept, so a page opened late, a reconnecting EventSource (Last-Event-ID) and the
no-JavaScript fallback all see the whole story.
"""

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from console.errors import describe
from operations import jsonable
from operations.destroy import Removed
from operations.errors import OperationError
from operations.stack import Settled, StackEvent

log = logging.getLogger("resizer.console")
KEEP = 50  # finished runs remembered


def stack_event(event: StackEvent) -> dict[str, Any]:
    """The event as `resizer deploy -o json` prints it, plus ``type`` and ``time`` for the page."""
    return {"type": "stack_event", **jsonable.stack_event(event), "time": event.timestamp.isoformat()}


@dataclass
class Run:
    id: str
    kind: str  # "deploy" or "destroy"
    stack: str
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def final(self) -> dict[str, Any] | None:
        return self.events[-1] if self.done and self.events else None

    def add(self, item: dict[str, Any]) -> None:
        with self.changed:
            item["seq"] = len(self.events)
            self.events.append(item)
            self.changed.notify_all()

    def drain(self, work: Callable[[], Iterator[Any]]) -> None:
        settled: Settled | None = None
        error: dict[str, Any] | None = None
        try:
            for item in work():
                if isinstance(item, Settled):
                    settled = item
                elif isinstance(item, StackEvent):
                    self.add(stack_event(item))
                elif isinstance(item, Removed):
                    self.add({"type": "removed", **jsonable.removed(item)})
        except OperationError as exc:
            error = describe(exc)
        except Exception as exc:  # a bug: logged with its traceback, reported without it
            log.error("internal error in %s of %s", self.kind, self.stack, exc_info=exc)
            error = {"error": "InternalError", "message": "internal error: see the console's log", "hint": ""}
        final: dict[str, Any] = {"type": "settled", "stack": self.stack}
        if settled is not None:  # as `resizer deploy -o json` prints it
            final |= jsonable.settled(settled) | {"stack": self.stack, "ok": settled.ok and error is None}
        else:
            final |= {"status": "FAILED" if error else "NO_CHANGES", "ok": error is None, "root_cause": None}
        if error is not None:
            final["error"] = error
        with self.changed:
            self.add(final)
            self.done = True
            self.changed.notify_all()


class Runs:
    """The runs of this console process, by id."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, stack: str, work: Callable[[], Iterator[Any]]) -> Run:
        run = Run(secrets.token_urlsafe(9), kind, stack)
        with self._lock:
            finished = [r.id for r in self._runs.values() if r.done]
            for old in finished[: max(0, len(finished) - KEEP)]:
                del self._runs[old]
            self._runs[run.id] = run
        thread = threading.Thread(
            target=run.drain, args=(work,), name=f"console-{kind}-{run.id}", daemon=True
        )
        thread.start()
        return run

    def get(self, run_id: str, kind: str) -> Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.kind == kind else None

    def active(self, stack: str) -> Run | None:
        return next((r for r in self._runs.values() if r.stack == stack and not r.done), None)
