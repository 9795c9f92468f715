"""Keeps the local cloud's state across restarts and crashes: snapshots, a journal, body files.

moto keeps everything in memory. Here:

- object bodies are files under ``objects/`` (localcloud.bodies), written once and fsynced;
- ``state/snapshot-N.bin`` is a checksummed pickle of moto's backends (the services the stack
  uses) with each body replaced by a reference to its file, so it stays small;
- ``state/journal-N.log`` holds what changed since snapshot N: each S3 object write (PutObject,
  DeleteObject, CopyObject, multipart uploads, a resize stored by the function) appends the
  object's new state and fsyncs it before the request is answered. Other writes (a deploy, a
  bucket's configuration) take a new snapshot before they are answered; invocations' logs and
  metrics are saved by a snapshot every ``interval`` seconds.

Start-up loads the newest snapshot and replays the journals after it. A snapshot or journal that
cannot be trusted (truncated, damaged, unreadable) stops the start with ``StateUnreadable``,
naming the file and the choices (``restore_previous`` or a reset); nothing is overwritten. The
previous snapshot generation and its journal are always kept for that restore.

A few moto internals are not picklable as they are (locks, weak-value maps, defaultdicts with
lambda factories), so reducers here rebuild them.
"""

import contextlib
import copyreg
import errno
import io
import logging
import os
import pickle
import re
import threading
import time
import weakref
import zlib
from collections import defaultdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from localcloud import bodies, journal

SERVICES = (
    "s3",
    "cloudformation",
    "lambda",
    "iam",
    "logs",
    "apigateway",
    "cloudwatch",
    "sts",
    "cloudfront",
    "events",  # the cleanup's rule (S3 -> EventBridge -> Lambda)
    "ssm",
)
STATE_DIR = "state"
LEGACY_STATE_FILE = "state.pickle"
FORMAT = f"2 (moto {version('moto')})"  # moto's pickled objects load only into the moto that saved them
EXIT_UNREADABLE = 13
_SNAPSHOT = re.compile(r"^snapshot-(\d+)\.bin$")
_JOURNAL = re.compile(r"^journal-(\d+)\.log$")
log = logging.getLogger(__name__)
_version = 0  # bumped by touch() whenever the state may have changed


def touch() -> None:
    """Note that the state may have changed (an invocation): the next periodic snapshot saves it."""
    global _version
    _version += 1


class StateUnreadable(Exception):
    """The saved state cannot be trusted; the message names the file and what the user can do."""

    def __init__(self, path: Path, reason: str, *, can_restore: bool) -> None:
        self.path = path
        self.reason = reason
        self.can_restore = can_restore
        choices = (
            "restore the previous saved generation with 'resizer up --restore-previous' "
            "(python -m localcloud.server --restore-previous), or start empty with 'resizer up --reset'"
            if can_restore
            else "start empty with 'resizer up --reset' (move the folder aside first to keep it)"
        )
        super().__init__(f"the local cloud's saved state {path} is unreadable ({reason}); {choices}")


class SaveFailed(Exception):
    """A write could not be made durable (disk full, read-only folder...)."""


# -- pickling -------------------------------------------------------------------------------


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


_body_root: Path = Path(".")  # where DiskBody references resolve (the loading store's folder)


_state_root: Path = Path(".")  # where journal body references resolve


def _restore_body(name: str, size: int, crc: int) -> bodies.DiskBody:
    return bodies.DiskBody(_body_root / name[:2] / name, size, crc)


def _restore_journal_body(journal_name: str, offset: int, size: int, crc: int) -> bodies.DiskBody:
    return bodies.DiskBody(_state_root / journal_name, size, crc, offset)


def _restore_key(cls: type, state: dict) -> Any:
    key = cls.__new__(cls)
    key.__dict__.update(state)
    key.lock = threading.Lock()
    return key


def _dumps(obj: Any, store: bodies.BodyStore, refs: set[str], place: Any = None) -> bytes:
    """Pickle obj with every S3 body written to (or referenced in) the body store, or, given
    ``place`` (a journal record), with each body still in memory handed to ``place(key, data)``,
    which says where in the journal it goes."""
    from moto.s3.models import FakeKey

    def body(disk: bodies.DiskBody) -> tuple:
        if disk.in_journal:
            return (_restore_journal_body, (disk.path.name, disk.offset, disk.size, disk.crc))
        refs.add(disk.name)
        return (_restore_body, (disk.name, disk.size, disk.crc))

    def key(fake: Any) -> tuple:
        state = {k: v for k, v in fake.__dict__.items() if k != "lock"}
        buffer = fake._value_buffer
        if place is None:
            state["_value_buffer"] = store.externalize(fake, sync=False)  # synced before the snapshot
        elif not isinstance(buffer, bodies.DiskBody):
            with fake.lock:
                buffer.seek(0)
                data = buffer.read()
            state["_value_buffer"] = place(fake, buffer, data)
        return (_restore_key, (type(fake), state))

    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {  # type: ignore[misc]
        **copyreg.dispatch_table,
        **_reducers(),
        bodies.DiskBody: body,
        FakeKey: key,
    }
    pickler.dump(obj)
    return out.getvalue()


#: Classes a saved state names by where they were when it was saved: (module, name) -> now.
_MOVED = {
    ("localcloud.cfn_resources", "BucketPolicy"): ("localcloud.cfn_resources.s3", "BucketPolicy"),
    ("localcloud.cfn_resources", "LambdaPermission"): (
        "localcloud.cfn_resources.lambda_",
        "LambdaPermission",
    ),
    ("localcloud.cfn_resources", "ApiStage"): ("localcloud.cfn_resources.apigateway", "ApiStage"),
    ("localcloud.cfn_resources", "MetricAlarm"): ("localcloud.cfn_resources.cloudwatch", "MetricAlarm"),
    **{
        ("localcloud.cfn_cloudfront", old): ("localcloud.cfn_resources.cloudfront", new)
        for old, new in (
            ("DistributionResource", "DistributionResource"),
            ("OriginAccessControlResource", "OriginAccessControlResource"),
            ("CachePolicyResource", "PolicyResource"),
            ("OriginRequestPolicyResource", "PolicyResource"),
            ("Policy", "Policy"),
        )
    },
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(*_MOVED.get((module, name), (module, name)))


def _loads(data: bytes | io.BytesIO) -> Any:
    return _Unpickler(data if isinstance(data, io.BytesIO) else io.BytesIO(data)).load()


# -- the store ------------------------------------------------------------------------------


class Store:
    """The state in data_dir: load it, journal object writes, take snapshots, report health."""

    def __init__(self, data_dir: Path) -> None:
        global _body_root, _state_root
        self.data_dir = data_dir
        self.state_dir = data_dir / STATE_DIR
        self.bodies = bodies.BodyStore(data_dir)
        _body_root, _state_root = self.bodies.root, self.state_dir
        self._in_journal: list[Any] = []  # keys whose bodies are journal records: files at the next snapshot
        self._lock = threading.Lock()  # journal appends and snapshot captures, in order
        self._checkpointing = threading.Lock()
        self._journal: journal.JournalWriter | None = None
        self._generation = 0
        self._snapshot_refs: dict[int, set[str]] = {}
        self._journal_refs: dict[int, set[str]] = {}
        self.saved_version = _version
        self.failure: str | None = None
        self.failed_at: str | None = None
        self.last_saved: str | None = None
        self.migrated_legacy = False

    # -- start-up --

    def load(self, *, restore_previous: bool = False) -> bool:
        """Put the saved state in moto's backends; False when there is none. StateUnreadable."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        snapshots = self._files(_SNAPSHOT)
        journals = self._files(_JOURNAL)
        legacy = self.data_dir / LEGACY_STATE_FILE
        self._generation = max([*snapshots, *journals, 0])
        if not snapshots and not journals:
            if legacy.is_file():
                self._load_legacy(legacy)
                return True
            return False
        base = 0
        for generation in sorted(snapshots, reverse=True):
            path = snapshots[generation]
            try:
                refs, state = self._read_snapshot(path)
            except journal.Unreadable as bad:
                older = [g for g in snapshots if g < generation]
                if not restore_previous:
                    raise StateUnreadable(path, bad.reason, can_restore=bool(older)) from None
                self._set_aside(path)
                continue
            _install(state)
            self._snapshot_refs[generation] = refs
            base = generation
            break
        else:
            if snapshots:  # every snapshot was damaged: nothing trustworthy to start from
                raise StateUnreadable(snapshots[max(snapshots)], "no readable snapshot", can_restore=False)
        for generation in sorted(g for g in journals if g >= base):
            path = journals[generation]
            refs = self._journal_refs.setdefault(generation, set())
            try:
                for payload in journal.read_journal(path):
                    self._apply(path, payload, refs)
            except journal.Unreadable as bad:
                if not restore_previous:
                    raise StateUnreadable(path, bad.reason, can_restore=True) from None
                log.warning("replayed %s up to its damaged part (%s); keeping it aside", path, bad.reason)
                self._set_aside(path, copy=True)
                break
        return True

    def _files(self, pattern: re.Pattern) -> dict[int, Path]:
        found = {}
        for path in self.state_dir.iterdir():
            match = pattern.match(path.name)
            if match:
                found[int(match.group(1))] = path
        return found

    def _read_snapshot(self, path: Path) -> tuple[set[str], dict]:
        payload = journal.read_snapshot(path)
        try:
            stream = io.BytesIO(payload)
            refs = set(_loads(stream))
            state = _loads(stream)
        except Exception as exc:  # a checksummed file that still fails: another moto version
            raise journal.Unreadable(path, f"cannot be unpickled: {type(exc).__name__}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else None
            raise journal.Unreadable(path, f"written as format {found}; this local cloud reads {FORMAT}")
        return refs, state

    def _apply(self, path: Path, payload: bytes, refs: set[str]) -> None:
        try:
            entries = _loads(payload)
        except Exception as exc:
            raise journal.Unreadable(path, f"a record cannot be unpickled: {type(exc).__name__}") from None
        refs.update(_refs_of(entries))
        _apply_s3(entries)

    def _load_legacy(self, path: Path) -> None:
        try:
            with open(path, "rb") as saved:
                state = _loads(io.BytesIO(saved.read()))
            if not isinstance(state, dict) or state.get("format") != 1:
                raise ValueError("not a local cloud state")
        except Exception as exc:  # UnicodeDecodeError, MemoryError, EOFError, ...: say which file
            raise StateUnreadable(path, f"{type(exc).__name__}: {exc}"[:300], can_restore=False) from None
        _install(state)
        self.migrated_legacy = True

    def _set_aside(self, path: Path, *, copy: bool = False) -> None:
        aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
        if copy:
            aside.write_bytes(path.read_bytes())
        else:
            path.replace(aside)
        log.warning("kept the unreadable %s as %s", path, aside)

    def start(self) -> None:
        """After load: take a first snapshot (compacting the journals) and open a journal."""
        self.checkpoint()
        if self.migrated_legacy:
            legacy = self.data_dir / LEGACY_STATE_FILE
            legacy.replace(legacy.with_name(LEGACY_STATE_FILE + ".migrated"))
            log.warning("converted %s to the new format; the old file is kept as %s.migrated", legacy, legacy)

    # -- writes --

    def record_s3(self, changes: list[tuple[str, str, str]]) -> None:
        """Journal the current state of S3 objects/uploads, durable on return; SaveFailed."""
        if self._journal is None or self._journal.closed:
            self.checkpoint()  # the start (or a failed append) left no journal: a snapshot opens one
        try:
            with self._lock:
                if self._journal is None or self._journal.closed:
                    raise SaveFailed("the local cloud's state is not open for writing")
                if os.statvfs(self.state_dir).f_flag & os.ST_RDONLY:  # the open journal would still take it
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self.state_dir))
                refs: set[str] = set()
                placed: list[tuple[Any, Any, bytes, bodies.DiskBody]] = []
                writer = self._journal
                cursor = [writer.size]

                def place(fake: Any, buffer: Any, data: bytes) -> bodies.DiskBody:
                    (offset,) = journal.body_offsets(cursor[0], [len(data)])
                    cursor[0] = offset + len(data)
                    disk = bodies.DiskBody(writer.path, len(data), zlib.crc32(data), offset)
                    placed.append((fake, buffer, data, disk))
                    return disk

                payload = _dumps(_capture_s3(changes), self.bodies, refs, place)
                writer.append(payload, [data for _, _, data, _ in placed])  # one fdatasync
                self._journal_refs.setdefault(self._generation, set()).update(refs)
                for fake, buffer, _, disk in placed:  # the key now reads its body from the journal
                    with fake.lock:
                        if fake._value_buffer is buffer:
                            fake._value_buffer = disk
                            self._in_journal.append(fake)
                    buffer.close()
        except SaveFailed as failed:
            self._failed(str(failed))
            raise
        except Exception as exc:
            raise self._failed(_describe(exc)) from exc

    def checkpoint(self) -> None:
        """A new snapshot of everything, durable on return; SaveFailed."""
        with self._checkpointing:
            try:
                self._checkpoint()
            except Exception as exc:
                raise self._failed(_describe(exc)) from exc
        self.failure = self.failed_at = None
        self.last_saved = datetime.now(UTC).isoformat(timespec="seconds")

    def _checkpoint(self) -> None:
        from moto.backends import get_backend

        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            in_journal, self._in_journal = self._in_journal, []
        for fake in in_journal:  # bodies in the journal become files, outside the lock (writes go on)
            self.bodies.externalize(fake, sync=False)
        with self._lock:
            version = _version
            started = time.time()
            refs: set[str] = set()
            state = {"format": FORMAT, "services": {name: get_backend(name) for name in SERVICES}}
            payload = _retrying(lambda: _dumps(state, self.bodies, refs))
            generation = self._generation + 1
            fresh = journal.JournalWriter(self.state_dir / f"journal-{generation}.log")
            if self._journal is not None:
                self._journal.close()
            self._journal, self._generation = fresh, generation
            self._journal_refs[generation] = set()
        self.bodies.sync_pending()  # the new body files are durable before the snapshot that names them
        journal.write_snapshot(
            self.state_dir / f"snapshot-{generation}.bin", pickle.dumps(sorted(refs)) + payload
        )
        self._snapshot_refs[generation] = refs
        self.saved_version = version
        self._retain(started)

    def _retain(self, started: float) -> None:
        """Keep the two newest snapshots and the journals from the older one on; collect bodies."""
        snapshots = self._files(_SNAPSHOT)
        kept = sorted(snapshots, reverse=True)[:2]
        oldest = min(kept)
        for generation, path in snapshots.items():
            if generation not in kept:
                path.unlink(missing_ok=True)
                self._snapshot_refs.pop(generation, None)
        journals = self._files(_JOURNAL)
        for generation, path in journals.items():
            if generation < oldest:
                path.unlink(missing_ok=True)
                self._journal_refs.pop(generation, None)
        for leftover in self.state_dir.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        known = all(g in self._snapshot_refs for g in kept) and all(
            g in self._journal_refs for g in journals if g >= oldest
        )
        if known:  # every kept file's references are known: the rest of objects/ is garbage
            with self._lock:
                live = set().union(*self._snapshot_refs.values(), *self._journal_refs.values())
            self.bodies.collect(live, older_than=started - 0.05)  # fs clocks are coarse

    def _failed(self, cause: str) -> SaveFailed:
        touch()  # what could not be journaled is saved by the next snapshot that succeeds
        if self.failure is None:
            self.failed_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.failure = cause
        log.error("the local cloud could not save its state in %s: %s", self.data_dir, cause)
        return SaveFailed(cause)

    def health(self) -> dict:
        if self.failure:
            return {"saving": "failing", "error": self.failure, "since": self.failed_at}
        return {"saving": "ok", "last_saved": self.last_saved}

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"[Errno {exc.errno}] {exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


def _retrying(capture: Any) -> Any:
    """moto's dicts may change while they are pickled (requests run meanwhile): try again."""
    for attempt in range(5):
        try:
            return capture()
        except RuntimeError:
            if attempt == 4:
                raise
            time.sleep(0.01)
    return None


def _install(state: dict) -> None:
    from moto.backends import get_backend

    for name, saved_backends in state["services"].items():
        live = get_backend(name)
        live.clear()
        live.update(saved_backends)


def _s3_backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _capture_s3(changes: list[tuple[str, str, str]]) -> list[tuple]:
    backend = _s3_backend()
    entries: list[tuple] = []
    for kind, bucket_name, name in changes:
        bucket = backend.buckets.get(bucket_name)
        if bucket is None:
            continue
        if kind == "key":
            versions = bucket.keys.getlist(name)
            versions = list(versions) if versions else None
            tags = {
                v.arn: dict(backend.tagger.tags[v.arn])
                for v in versions or []
                if hasattr(v, "arn") and v.arn in backend.tagger.tags
            }
            entries.append(("key", bucket_name, name, versions, tags))
        else:
            entries.append(("upload", bucket_name, name, bucket.multiparts.get(name)))
    return entries


def _apply_s3(entries: list[tuple]) -> None:
    backend = _s3_backend()
    for entry in entries:
        bucket = backend.buckets.get(entry[1])
        if bucket is None:
            continue
        if entry[0] == "key":
            _, _, name, versions, tags = entry
            if versions:
                dict.__setitem__(bucket.keys, name, versions)
            else:
                dict.pop(bucket.keys, name, None)
            for arn, values in tags.items():
                backend.tagger.tags[arn] = values
        else:
            _, _, upload_id, upload = entry
            if upload is None:
                bucket.multiparts.pop(upload_id, None)
            else:
                bucket.multiparts[upload_id] = upload


def _refs_of(entries: list[tuple]) -> set[str]:
    refs: set[str] = set()
    for entry in entries:
        things = entry[3] if entry[0] == "key" else ([entry[3]] if entry[3] else [])
        for thing in things or []:
            _collect_refs(thing, refs)
    return refs


def _collect_refs(thing: Any, refs: set[str]) -> None:
    buffer = getattr(thing, "_value_buffer", None)
    if isinstance(buffer, bodies.DiskBody):
        refs.add(buffer.name)
    inner = getattr(thing, "key", None)  # a delete marker's key
    if inner is not None and inner is not thing:
        _collect_refs(inner, refs)
    multipart = getattr(thing, "multipart", None) if not hasattr(thing, "parts") else thing
    for part in getattr(multipart, "parts", {}).values():
        _collect_refs(part, refs)


class Saver:
    """Takes a snapshot every ``interval`` seconds when something changed, and once more on stop."""

    def __init__(self, store: Store, interval: float = 10.0) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="localcloud-saver", daemon=True)

    def start(self) -> "Saver":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(SaveFailed):  # logged and shown by health(); tried again next round
                self._save_if_changed()

    def _save_if_changed(self) -> None:
        if _version != self.store.saved_version:  # nothing written, nothing invoked: nothing to save
            self.store.checkpoint()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        try:
            self._save_if_changed()
        finally:
            self.store.close()
