"""The web console's login token and session key, kept in a folder (0600) so that restarts keep them.

`resizer up` and `resizer console` read the same files, so the token a user saved (or a browser
remembered) keeps working, and sessions survive a restart; ``rotate=True`` (``--new-token``)
replaces both, which also ends every session. RESIZER_CONSOLE_TOKEN, when set, wins and is
never written.
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(".resizer/console")
FILE_NAME = "login.json"


@dataclass(frozen=True)
class Login:
    token: str
    secret: bytes


def load(folder: Path = DEFAULT_DIR, *, rotate: bool = False) -> Login:
    """The stored token and session key; new ones (stored, 0600) when absent, unreadable or rotated."""
    path = folder / FILE_NAME
    if not rotate:
        try:
            data = json.loads(path.read_text())
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)  # someone loosened it: tighten, do not leak the token
            return Login(str(data["token"]), bytes.fromhex(data["secret"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    login = Login(secrets.token_urlsafe(24), secrets.token_bytes(32))
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{FILE_NAME}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"token": login.token, "secret": login.secret.hex()}, out)
    os.replace(temporary, path)  # atomic: a reader sees the old file or the new one
    (folder / REVOKED_FILE).unlink(missing_ok=True)  # a new key: the old sessions cannot be read anyway
    return login


REVOKED_FILE = "revoked.json"


def load_revoked(folder: Path = DEFAULT_DIR) -> dict[str, int]:
    """Sessions logged out before a restart (id -> expiry), so that a restart does not revive them."""
    try:
        data = json.loads((folder / REVOKED_FILE).read_text())
        return {str(k): int(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def save_revoked(revoked: dict[str, int], folder: Path = DEFAULT_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{REVOKED_FILE}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(revoked, out)
    os.replace(temporary, folder / REVOKED_FILE)
