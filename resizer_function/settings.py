"""The function's configuration, read from environment variables at each invocation."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from resizer_function.errors import RequestRefused
from resizer_function.request import parse_size

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DELIVERIES = ("website", "cdn")


@dataclass(frozen=True)
class Settings:
    """Everything the handler may be configured with; only BUCKET is required."""

    bucket: str
    delivery: str = "website"  # cdn: answer the image itself, 307 back to the CDN when over 6 MB
    public_url: str = ""
    allowed_sizes: frozenset[tuple[int | None, int | None]] = frozenset()
    max_dimension: int = 4096
    max_source_bytes: int = 30_000_000
    max_source_pixels: int = 50_000_000
    response_mode: str = "redirect"
    redirect_status: int = 302
    signing_key_parameter: str = ""  # an SSM SecureString's name; empty: requests are not signed
    signing_key_version: int = 0  # 0: the newest version when the container first reads it

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        """Parse the environment; ValueError names the variable that is wrong."""

        def number(name: str, default: int) -> int:
            text = env.get(name, "").strip()
            if not text:
                return default
            if not re.fullmatch(r"[0-9]{1,15}", text) or int(text) <= 0:
                raise ValueError(f"{name} must be a positive integer, not {text!r}")
            return int(text)

        bucket = env.get("BUCKET", "").strip()
        if not bucket:
            raise ValueError("BUCKET is not set")
        sizes = [s.strip() for s in env.get("ALLOWED_SIZES", "").split(",") if s.strip()]
        delivery = env.get("DELIVERY", "").strip().lower() or "website"
        if delivery not in DELIVERIES:
            raise ValueError(f"DELIVERY must be website or cdn, not {delivery!r}")
        mode = env.get("RESPONSE_MODE", "").strip().lower() or "redirect"
        if mode not in ("redirect", "inline"):
            raise ValueError(f"RESPONSE_MODE must be redirect or inline, not {mode!r}")
        status = number("REDIRECT_STATUS", 302)
        if status not in REDIRECT_STATUSES:
            raise ValueError(f"REDIRECT_STATUS must be one of {REDIRECT_STATUSES}, not {status}")
        return cls(
            bucket=bucket,
            delivery=delivery,
            public_url=env.get("PUBLIC_URL", "").strip().rstrip("/"),
            allowed_sizes=frozenset(_size(s) for s in sizes),
            max_dimension=number("MAX_DIMENSION", 4096),
            max_source_bytes=number("MAX_SOURCE_BYTES", 30_000_000),
            max_source_pixels=number("MAX_SOURCE_PIXELS", 50_000_000),
            response_mode=mode,
            redirect_status=status,
            signing_key_parameter=env.get("SIGNING_KEY_PARAMETER", "").strip(),
            signing_key_version=_version(env.get("SIGNING_KEY_VERSION", "").strip()),
        )


def _version(text: str) -> int:
    if not re.fullmatch(r"[0-9]{0,15}", text):
        raise ValueError(f"SIGNING_KEY_VERSION must be a whole number, not {text!r}")
    return int(text or 0)


def _size(text: str) -> tuple[int | None, int | None]:
    try:
        return parse_size(text)
    except RequestRefused as exc:
        raise ValueError(f"ALLOWED_SIZES: {exc.message}") from None
