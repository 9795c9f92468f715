"""The local cloud's process contract, shared by its server and its clients (the standard library only).

The server (localcloud.server) answers ``HEALTH_PATH`` with ``{"service": SERVICE_NAME, ...}``;
clients (operations/, localcloud.process, the tests) ask ``health`` whether an endpoint is this
local cloud. Importing this module imports nothing else of localcloud (nor moto), so operations/
may import it anywhere.
"""

from pathlib import Path

HEALTH_PATH = "/_localcloud/health"
SERVICE_NAME = "resizer-localcloud"
DEFAULT_DATA_DIR = Path(".resizer/local")
DEFAULT_PORT = 4566
PORT_ENV = "RESIZER_LOCAL_PORT"
LOOPBACK = "127.0.0.1"
SERVER_MODULE = "localcloud.server"


def endpoint(port: int | str, host: str = LOOPBACK) -> str:
    """The URL of the local cloud listening on host:port."""
    return f"http://{host}:{port}"


def server_args(port: int, data_dir: Path, *extra: str) -> list[str]:
    """The arguments of ``python -m localcloud.server`` for a port and a data folder."""
    return ["--port", str(port), "--data", str(data_dir), *extra]


def health(endpoint_url: str, timeout: float = 1.0) -> dict:
    """What the local cloud at endpoint_url says of itself ({} when none answers there)."""
    import json
    import urllib.request  # 20 ms: only when asked

    try:
        with urllib.request.urlopen(endpoint_url.rstrip("/") + HEALTH_PATH, timeout=timeout) as reply:
            found = json.loads(reply.read())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) and found.get("service") == SERVICE_NAME else {}
