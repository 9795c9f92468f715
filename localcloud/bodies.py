"""Object bodies as files in the data folder: written once, fsynced, read back lazily.

moto keeps an S3 object's bytes in a SpooledTemporaryFile (``FakeKey._value_buffer``), in memory
below 5 MB. ``externalize`` writes those bytes to ``objects/ab/<name>`` and swaps the buffer for a
``DiskBody``, a read-only stand-in that opens the file on a read, so a stored object costs no
memory and the metadata that refers to it stays small (the last bodies read, up to 32 MB of
bodies of at most 1 MB each, stay in memory for the next hit). A body file is never rewritten: a new
version of an object gets a new file, and files no state refers to are collected after a save.
"""

import ctypes
import os
import sys
import threading
import uuid
import zlib
from collections import OrderedDict
from pathlib import Path

OBJECTS_DIR = "objects"
RECENT_BYTES = 32 << 20  # bodies kept in memory after a read, at most (a bounded cache, not the state)
RECENT_LARGEST = 1 << 20
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


class BodyUnreadable(OSError):
    """A body file is missing or does not hold what was written."""


class DiskBody:
    """The file-like part of a SpooledTemporaryFile that moto uses (seek, read, tell), read-only."""

    def __init__(self, path: Path, size: int, crc: int, offset: int = 0) -> None:
        self.path = path
        self.size = size
        self.crc = crc
        self.offset = offset  # > 0: the body is a record inside a journal (localcloud.journal)
        self._position = 0

    @property
    def in_journal(self) -> bool:
        return self.offset > 0

    @property
    def name(self) -> str:
        return self.path.name

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        whole = self._position == 0 and (size < 0 or size >= self.size)
        if whole and (data := _recent.get((self.path, self.offset))) is not None:
            self._position += len(data)
            return data
        left = max(0, self.size - self._position)
        try:
            with open(self.path, "rb") as body:
                body.seek(self.offset + self._position)
                if whole:
                    data = body.read(self.size)
                    self._check(data)
                    _recent.put((self.path, self.offset), data)
                else:
                    data = body.read(min(size, left) if size >= 0 else left)
        except FileNotFoundError:
            raise BodyUnreadable(f"object body {self.path} is missing") from None
        self._position += len(data)
        return data

    def _check(self, data: bytes) -> None:
        if len(data) != self.size or zlib.crc32(data) != self.crc:
            raise BodyUnreadable(f"object body {self.path} is damaged (size or checksum differs)")

    def write(self, _data: bytes) -> int:
        raise OSError("a stored object body is read-only")

    def truncate(self, _size: int | None = None) -> int:
        raise OSError("a stored object body is read-only")

    def close(self) -> None:
        """moto disposes of replaced keys; the file stays until no saved state refers to it."""

    @property
    def closed(self) -> bool:
        return False


class _Recent:
    """The bodies read last (small ones, bounded in bytes): a hit reads no file. Files never change."""

    def __init__(self, limit: int = RECENT_BYTES, largest: int = RECENT_LARGEST) -> None:
        self.limit, self.largest = limit, largest
        self._entries: OrderedDict[tuple[Path, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, path: tuple[Path, int]) -> bytes | None:
        with self._lock:
            data = self._entries.get(path)
            if data is not None:
                self._entries.move_to_end(path)
            return data

    def put(self, path: tuple[Path, int], data: bytes) -> None:
        if len(data) > self.largest:
            return
        with self._lock:
            if path in self._entries:
                return
            self._entries[path] = data
            self._size += len(data)
            while self._size > self.limit:
                self._size -= len(self._entries.popitem(last=False)[1])

    def rename(self, old: tuple[Path, int], new: tuple[Path, int]) -> None:
        """The body at old now lives at new (a journal record moved to its file): one copy, not two."""
        with self._lock:
            data = self._entries.pop(old, None)
            if data is None:
                return
            if new in self._entries:
                self._size -= len(data)
            else:
                self._entries[new] = data


_recent = _Recent()


class BodyStore:
    """Writes bodies under data_dir/objects and lists them for garbage collection."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / OBJECTS_DIR
        self._made: set[str] = set()
        self._unsynced: list[Path] = []  # files written by write(..., sync=False), not yet durable
        self._lock = threading.Lock()

    def write(self, data: bytes, *, sync: bool = True) -> DiskBody:
        """Write data to a new file; the DiskBody that reads it. Durable on return (the file and
        its folder fsynced), or with sync=False when ``sync_pending`` returns."""
        name = uuid.uuid4().hex
        folder = self.root / name[:2]
        if name[:2] not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._made.add(name[:2])
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        if sync:
            _fsync_dir(folder)
        else:
            with self._lock:
                self._unsynced.append(path)
        return DiskBody(path, len(data), zlib.crc32(data))

    def sync_pending(self) -> None:
        """Make the files of ``write(..., sync=False)`` durable, with their names: one syncfs of
        the data folder's file system (Linux), else an fsync of each file and of each folder."""
        with self._lock:
            pending, self._unsynced = self._unsynced, []
        if not pending or _syncfs(self.root):
            return
        for path in pending:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for folder in {path.parent for path in pending} | {self.root}:
            _fsync_dir(folder)

    def externalize(self, key: object, *, sync: bool = True) -> DiskBody:
        """Put a moto FakeKey's body in a body file (once; an in-memory one, or one inside a
        journal) and make the key read it from there."""
        buffer = key._value_buffer  # type: ignore[attr-defined]
        if isinstance(buffer, DiskBody) and not buffer.in_journal:
            return buffer
        with key.lock:  # type: ignore[attr-defined]
            buffer.seek(0)
            data = buffer.read()
        body = self.write(data, sync=sync)
        with key.lock:  # type: ignore[attr-defined]
            if key._value_buffer is buffer:  # type: ignore[attr-defined]
                key._value_buffer = body  # type: ignore[attr-defined]
        if isinstance(buffer, DiskBody):  # the journal's copy in memory is now the file's
            _recent.rename((buffer.path, buffer.offset), (body.path, 0))
        buffer.close()
        return body

    def body(self, name: str, size: int, crc: int) -> DiskBody:
        return DiskBody(self.root / name[:2] / name, size, crc)

    def collect(self, live: set[str], older_than: float) -> int:
        """Delete body files no state refers to (written before older_than); how many went."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            for path in folder.iterdir() if folder.is_dir() else []:
                if path.name in live:
                    continue
                try:
                    if path.stat().st_mtime < older_than:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed


def _syncfs(folder: Path) -> bool:
    """syncfs(2) of folder's file system: every file written there, data and names, on disk.
    False where it is not available."""
    if _libc is None or not hasattr(_libc, "syncfs"):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _libc.syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(fd)
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
