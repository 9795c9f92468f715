"""One owner per data folder: the local cloud that runs on a folder holds an exclusive lock on it.

``claim`` takes a non-blocking ``flock`` on ``<data>/owner.lock`` and writes the owner's PID and
port into it; a second local cloud on the same folder, whatever its port, gets ``Owned`` naming
the first one. The kernel drops the lock when its process ends, even on ``kill -9``, so a stale
file never blocks a restart. The lock file is the one entry ``--reset`` keeps.
"""

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "owner.lock"


class Owned(Exception):
    """Another live process owns the data folder."""

    def __init__(self, data_dir: Path, pid: int | None, port: int | None) -> None:
        self.data_dir, self.pid, self.port = data_dir, pid, port
        who = f"PID {pid}" if pid else "another process"
        where = f" on port {port}" if port else ""
        super().__init__(f"the local cloud's data folder {data_dir} is in use by {who}{where}")


@dataclass
class Claim:
    """The held lock; ``release`` (or the end of the process) gives the folder up."""

    data_dir: Path
    fd: int | None

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def claim(data_dir: Path, port: int) -> Claim:
    """Own data_dir (created if missing) for this process on port; Owned if another one does."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = _read(fd)
        os.close(fd)
        raise Owned(data_dir, owner.get("pid"), owner.get("port")) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "port": port}).encode(), 0)
    return Claim(data_dir, fd)


def owner(data_dir: Path) -> dict:
    """{"pid", "port"} of the live owner of data_dir, or {} when nobody holds it."""
    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {}
    finally:
        os.close(fd)


def _read(fd: int) -> dict:
    try:
        found = json.loads(os.pread(fd, 256, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def empty(data_dir: Path) -> None:
    """Delete everything in data_dir but the lock file (``--reset``, by the folder's owner)."""
    import shutil

    for entry in data_dir.iterdir() if data_dir.is_dir() else ():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
