"""Checksummed files for the local cloud's state: snapshots (written whole) and journals (appended).

A snapshot is ``MAGIC, length, sha256, payload``, written to a temporary file, fsynced and renamed
over, so it is either whole or absent. A journal is ``MAGIC`` then records ``length, crc32, payload``,
each fsynced before the write it records is acknowledged; an object write appends its body's
bytes as records of their own (the length's top bit set) just before the record that refers to
them, in the same write and the same fdatasync (one fsync per acknowledged write). Reading a
journal stops at a torn last record (a crash during an append whose write was never
acknowledged); a damaged record before the end, a bad header or a checksum mismatch in a snapshot
raises ``Unreadable`` naming the file.
"""

import hashlib
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

SNAPSHOT_MAGIC = b"RESIZER-LOCALCLOUD-SNAPSHOT-2\n"
JOURNAL_MAGIC = b"RESIZER-LOCALCLOUD-JOURNAL-2\n"
_SNAPSHOT_HEAD = struct.Struct(">Q32s")
_RECORD_HEAD = struct.Struct(">II")
BODY_FLAG = 1 << 31  # in a record's length: an object body's bytes, not a pickled record
log = logging.getLogger(__name__)


class Unreadable(Exception):
    """A state file that cannot be trusted: ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def write_snapshot(path: Path, payload: bytes) -> None:
    """Atomically replace path with payload (checksummed), durable when this returns."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(SNAPSHOT_MAGIC)
        out.write(_SNAPSHOT_HEAD.pack(len(payload), hashlib.sha256(payload).digest()))
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
    fsync_dir(path.parent)


def read_snapshot(path: Path) -> bytes:
    """The payload of a snapshot; Unreadable when it is truncated, damaged or not a snapshot."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as saved:
            magic = saved.read(len(SNAPSHOT_MAGIC))
            if magic != SNAPSHOT_MAGIC:
                raise Unreadable(path, "not a local cloud snapshot (its header is wrong)")
            head = saved.read(_SNAPSHOT_HEAD.size)
            if len(head) != _SNAPSHOT_HEAD.size:
                raise Unreadable(path, "truncated (no header)")
            length, digest = _SNAPSHOT_HEAD.unpack(head)
            if length != size - len(SNAPSHOT_MAGIC) - _SNAPSHOT_HEAD.size:
                raise Unreadable(path, f"truncated or damaged (it says {length} bytes, it holds {size})")
            payload = saved.read(length)
    except OSError as exc:
        raise Unreadable(path, f"cannot be read: {exc.strerror or exc}") from None
    if hashlib.sha256(payload).digest() != digest:
        raise Unreadable(path, "damaged (its checksum does not match its content)")
    return payload


class JournalWriter:
    """Appends checksummed records to one journal file, each fsynced before append returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fresh = not path.exists() or path.stat().st_size == 0
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if fresh:
            self._write(JOURNAL_MAGIC)
            os.fsync(self._fd)
            fsync_dir(path.parent)

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def append(self, payload: bytes, bodies: list[bytes] | tuple = ()) -> None:
        """Append the body records (object bytes, read back at ``body_offsets``) and then one
        record, with one write and one fdatasync, durable on return; on failure the file is cut
        back to what it was."""
        size = os.fstat(self._fd).st_size
        parts: list[bytes] = []
        for body in bodies:
            parts += [_RECORD_HEAD.pack(len(body) | BODY_FLAG, zlib.crc32(body)), body]
        parts += [_RECORD_HEAD.pack(len(payload), zlib.crc32(payload)), payload]
        try:
            self._write(b"".join(parts) if len(parts) > 2 else parts[0] + parts[1])
            os.fdatasync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, size)  # no half record stays between two good ones
            except OSError:
                self.close()  # cannot even cut it back: the next write opens a new generation
            raise

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def body_offsets(start: int, sizes: list[int]) -> list[int]:
    """Where the bytes of body records of these sizes land when appended at file size start."""
    offsets = []
    for size in sizes:
        start += _RECORD_HEAD.size
        offsets.append(start)
        start += size
    return offsets


def read_journal(path: Path) -> Iterator[bytes]:
    """The payloads of path's records in order (body records checked, then skipped: the objects
    read them from the file), up to a torn last record; Unreadable otherwise."""
    try:
        saved = open(path, "rb")  # noqa: SIM115 (closed below; a generator)
        total = os.fstat(saved.fileno()).st_size
    except OSError as exc:
        raise Unreadable(path, f"cannot be read: {exc.strerror or exc}") from None
    with saved:
        magic = saved.read(len(JOURNAL_MAGIC))
        if not magic:
            return
        if magic != JOURNAL_MAGIC:
            if JOURNAL_MAGIC.startswith(magic) and total == len(magic):
                return  # the header itself was torn: no record was ever acknowledged
            raise Unreadable(path, "not a local cloud journal (its header is wrong)")
        offset = len(JOURNAL_MAGIC)
        while offset < total:
            head = saved.read(_RECORD_HEAD.size)
            if len(head) < _RECORD_HEAD.size:
                return  # torn last record
            length, crc = _RECORD_HEAD.unpack(head)
            start = offset + _RECORD_HEAD.size
            body = bool(length & BODY_FLAG)
            length &= ~BODY_FLAG
            payload = saved.read(length)
            last = start + length >= total
            if len(payload) < length:
                return  # torn last record
            if zlib.crc32(payload) != crc:
                if last:  # a torn last record whose bytes did not all reach the disk (never acknowledged)
                    log.warning("%s: ignoring its last record, torn by a crash during its write", path)
                    return
                raise Unreadable(path, f"damaged record at byte {offset} (its checksum does not match)")
            if not body:
                yield payload
            offset = start + length


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
