"""ConsoleSettings: where the console listens, how users log in, and which AWS target it operates on.

The token and the signing secret come from the environment (RESIZER_CONSOLE_TOKEN,
RESIZER_CONSOLE_SECRET) or are random for this process; neither appears in a repr, a log line or
a page. The target (stack, region, profile, endpoint) is resolved per request exactly like the
CLI's (resizer.toml < environment < these values, see operations.config), so a console and a
CLI started in the same folder act on the same stack.
"""

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from operations import images
from operations.aws import Clients, Target
from operations.console_process import TOKEN_ENV  # the one name: `resizer up` sets it for this process

SECRET_ENV = "RESIZER_CONSOLE_SECRET"
DEFAULT_EVENTS_DIR = Path(".resizer/console/events")


def _token() -> str:
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)


def _secret() -> bytes:
    given = os.environ.get(SECRET_ENV)
    return given.encode() if given else secrets.token_bytes(32)


@dataclass
class ConsoleSettings:
    """Everything create_app needs; the defaults are those of `resizer console`."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str = field(default_factory=_token, repr=False)
    secret: bytes = field(default_factory=_secret, repr=False)
    # The operations target, as the CLI's --stack/--region/--profile/--endpoint-url.
    stack: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    cwd: Path | None = None  # where resizer.toml is read; default: the working directory
    clients_factory: Callable[[Target], Clients] = Clients.for_target
    events_dir: Path = DEFAULT_EVENTS_DIR  # the Invoke page's saved test events (relative to cwd)
    login_dir: Path | None = None  # where the stored token's logouts are kept (operations.console_token)
    max_upload_bytes: int = images.MAX_UPLOAD_BYTES
    session_hours: float = 12.0
    poll: float = 2.0  # seconds between stack-event polls while deploying or destroying
    sleep: Callable[[float], None] = time.sleep

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
