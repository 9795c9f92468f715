"""Keeps the local cloud's state across restarts: moto's backends, pickled to the data folder.

moto keeps everything in memory. ``save`` pickles the backends of the services the stack uses
(buckets with their objects, stacks, functions with their code, logs, metrics, ...) to
``state.pickle`` atomically; ``load`` puts them back in place at start-up. A few moto internals
are not picklable as they are (locks, weak-value maps, defaultdicts with lambda factories), so
reducers here rebuild them.
"""

import contextlib
import copyreg
import logging
import os
import pickle
import threading
import weakref
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

SERVICES = ("s3", "cloudformation", "lambda", "iam", "logs", "apigateway", "cloudwatch", "sts", "cloudfront")
STATE_FILE = "state.pickle"
FORMAT = f"1 (moto {version('moto')})"  # moto's pickled objects load only into the moto that saved them
log = logging.getLogger(__name__)
_lock = threading.Lock()
_version = 0  # bumped by touch() whenever the state may have changed


def touch() -> None:
    """Note that the state may have changed (a write request, an invocation)."""
    global _version
    _version += 1


def _defaultdict(d: defaultdict) -> tuple:
    factory = d.default_factory
    if factory is not None and getattr(factory, "__name__", "") == "<lambda>":
        factory = type(factory())  # moto's `defaultdict(lambda: {})` and the like
    return (defaultdict, (factory, dict(d)))


def _reducers() -> dict:
    return {
        weakref.WeakValueDictionary: lambda d: (weakref.WeakValueDictionary, (dict(d),)),
        type(threading.Lock()): lambda _: (threading.Lock, ()),
        type(threading.RLock()): lambda _: (threading.RLock, ()),
        defaultdict: _defaultdict,
    }


def save(data_dir: Path) -> None:
    """Write every service's backends to data_dir/state.pickle (atomically)."""
    from moto.backends import get_backend

    for kind, reducer in _reducers().items():
        copyreg.pickle(kind, reducer)
    with _lock:
        state = {"format": FORMAT, "services": {name: get_backend(name) for name in SERVICES}}
        target = data_dir / STATE_FILE
        temporary = target.with_suffix(".tmp")
        with open(temporary, "wb") as out:
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)


def load(data_dir: Path) -> bool:
    """Restore the backends saved in data_dir, in place; False when there is nothing to load."""
    from moto.backends import get_backend

    path = data_dir / STATE_FILE
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as saved:
            state = pickle.load(saved)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.warning("ignoring unreadable local cloud state %s: %s", path, exc)
        return False
    if state.get("format") != FORMAT:
        log.warning("ignoring local cloud state %s saved as %s (now %s)", path, state.get("format"), FORMAT)
        return False
    for name, saved_backends in state["services"].items():
        live = get_backend(name)
        live.clear()
        live.update(saved_backends)
    return True


class Saver:
    """Saves every ``interval`` seconds when something changed, and once more on stop."""

    def __init__(self, data_dir: Path, interval: float = 10.0) -> None:
        self.data_dir = data_dir
        self.interval = interval
        self._saved = _version  # what is on disk (or was just loaded) is current
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="localcloud-saver", daemon=True)

    def start(self) -> "Saver":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):
                self._save_if_changed()

    def _save_if_changed(self) -> None:
        version = _version
        if version != self._saved:  # nothing written, nothing invoked: nothing to save
            save(self.data_dir)
            self._saved = version

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._save_if_changed()
