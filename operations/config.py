"""Deploy settings: ``resizer.toml`` in the working directory, overridden by the environment,
overridden by flags.

    # resizer.toml
    stack = "resizer"
    region = "eu-west-1"
    profile = "prod"            # optional; endpoint_url too
    [parameters]                # CloudFormation parameters of cloudformation/resizer.yaml
    AllowedSizes = "100x100,300x200,x600"
    MemorySize = 1536

Environment: RESIZER_STACK, AWS_PROFILE, AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL,
and RESIZER_PARAM_<Name>=<value> for a parameter.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from operations.aws import DEFAULT_STACK, Target
from operations.errors import ConfigError

CONFIG_FILE = "resizer.toml"
_KEYS = {"stack", "region", "profile", "endpoint_url", "parameters"}


@dataclass(frozen=True)
class Settings:
    """Where to deploy and with which template parameters."""

    target: Target
    parameters: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None


def load(
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    stack: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    parameters: list[str] | None = None,
) -> Settings:
    """Merge resizer.toml < environment < flags; ConfigError names the bad entry."""
    env = os.environ if env is None else env
    path = (cwd or Path.cwd()) / CONFIG_FILE
    data = _read(path) if path.is_file() else {}
    file_params = {
        str(k): _text(v, f"{path}: [parameters] {k}") for k, v in data.get("parameters", {}).items()
    }
    env_params = {k[len("RESIZER_PARAM_") :]: v for k, v in env.items() if k.startswith("RESIZER_PARAM_")}
    flag_params = dict(_pair(p) for p in parameters or [])
    target = Target(
        stack=stack or env.get("RESIZER_STACK") or data.get("stack") or DEFAULT_STACK,
        region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or data.get("region"),
        profile=profile or env.get("AWS_PROFILE") or data.get("profile"),
        endpoint_url=endpoint_url or env.get("AWS_ENDPOINT_URL") or data.get("endpoint_url"),
    )
    _check_stack_name(target.stack)
    return Settings(target, {**file_params, **env_params, **flag_params}, path if data else None)


def _read(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; expected {sorted(_KEYS)}")
    if not isinstance(data.get("parameters", {}), dict):
        raise ConfigError(f"{path}: [parameters] must be a table of Name = value")
    for key in _KEYS - {"parameters"}:
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be a string")
    return data


def _text(value: object, where: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(_text(v, where) for v in value)
    raise ConfigError(f"{where}: {value!r} is not a string, number or list")


def _pair(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ConfigError(f"--parameter {text!r} is not Name=Value")
    return name.strip(), value


def _check_stack_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,56}", name):
        raise ConfigError(
            f"stack name {name!r} is invalid",
            hint="a letter, then letters, digits and hyphens, at most 57 characters",
        )
