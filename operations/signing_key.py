"""The signing key on a deploy: ``-p SigningKey=...`` stored as an SSM SecureString the template names.

CloudFormation cannot create a SecureString parameter, and a NoEcho template parameter ends up as
a plain environment variable of the function (readable by whoever may read its configuration).
So ``SigningKey`` is not a template parameter: deploy stores the value as the SecureString
``/resizer/<stack>/signing-key`` (a new version only when the value differs from the one the
stack runs with) and sets the template's ``SigningKeyParameter`` (its name) and
``SigningKeyVersion`` (the version the function reads once per container). ``-p SigningKey=``
turns signing off; leaving it out keeps the stack's key (``UsePreviousValue``). The value is never
returned, logged or shown: the plan says ``****`` changed or unchanged.

A stack deployed by an older template (a NoEcho ``SigningKey`` parameter, the key in the
function's ``SIGNING_KEY`` variable) has its key moved into SSM on its next deploy, so that the
upgrade does not turn signing off.
"""

from dataclasses import dataclass
from typing import Any

from operations.aws import Clients, translated
from operations.errors import ConfigError
from operations.parameters import MASK, ParameterChange

PSEUDO = "SigningKey"  # what -p names; not a template parameter
NAME_PARAMETER = "SigningKeyParameter"
VERSION_PARAMETER = "SigningKeyVersion"
MAX_LENGTH = 4096  # a standard-tier parameter's value


def parameter_name(stack: str) -> str:
    """The SecureString deploy keeps the stack's key in."""
    return f"/resizer/{stack}/signing-key"


@dataclass(frozen=True)
class Resolved:
    """What the key does to a deploy: the template parameters to send, and the change to show."""

    given: dict[str, str]  # SigningKeyParameter / SigningKeyVersion to send (empty: keep the stack's)
    change: ParameterChange | None  # None: the stack has no key and none was given
    signing: bool  # whether the stack will verify signatures


def take(given: dict[str, str]) -> str | None:
    """Remove SigningKey from the given parameters (before they are checked against the template);
    ConfigError for a value the signer cannot use, or for both ways of naming the key at once."""
    if PSEUDO not in given:
        return None
    key = given.pop(PSEUDO)
    clash = sorted({NAME_PARAMETER, VERSION_PARAMETER} & set(given))
    if clash:
        raise ConfigError(
            f"give SigningKey or {', '.join(clash)}, not both",
            hint="SigningKey=... stores the key in SSM; SigningKeyParameter names your own SecureString",
        )
    if "\n" in key or "\r" in key:
        raise ConfigError("invalid parameter value: SigningKey cannot contain a line break")
    if len(key) > MAX_LENGTH:
        raise ConfigError(f"invalid parameter value: SigningKey is over {MAX_LENGTH} characters")
    return key


def resolve(clients: Clients, stack: str, key: str | None, current: dict[str, str] | None) -> Resolved:
    """Store the given key (only when it is new) and say what the deploy sends and changes."""
    old_name = (current or {}).get(NAME_PARAMETER, "")
    old_version = (current or {}).get(VERSION_PARAMETER, "0")
    had = bool(old_name)
    if key is None and current is not None and PSEUDO in current and not had:
        key = _legacy_key(clients, stack)  # an older stack: its key moves to SSM, signing stays on
        if key is None:
            return Resolved({NAME_PARAMETER: "", VERSION_PARAMETER: "0"}, None, False)
    if key is None:  # kept as it is (UsePreviousValue), or off on a new stack
        if current is None:
            return Resolved({}, None, False)
        return Resolved({}, ParameterChange(PSEUDO, MASK, MASK, True, False) if had else None, had)
    if key == "":
        if not had:
            return Resolved({NAME_PARAMETER: "", VERSION_PARAMETER: "0"}, None, False)
        change = ParameterChange(PSEUDO, MASK, "(none: signing off)", True, True)
        return Resolved({NAME_PARAMETER: "", VERSION_PARAMETER: "0"}, change, False)
    name = parameter_name(stack)
    version = _store(clients.client("ssm"), name, key)
    changed = (old_name, str(old_version)) != (name, str(version))
    change = ParameterChange(PSEUDO, MASK if had else None, MASK, True, changed)
    return Resolved({NAME_PARAMETER: name, VERSION_PARAMETER: str(version)}, change, True)


def _store(ssm: Any, name: str, key: str) -> int:
    """The version of ``name`` that holds ``key``: its newest one when it already does, else a new one."""
    from botocore.exceptions import ClientError

    try:
        found = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        found = None
    if found is not None and found.get("Type") == "SecureString" and found.get("Value") == key:
        return int(found["Version"])
    if found is not None and found.get("Type") != "SecureString":
        raise ConfigError(
            f"the SSM parameter {name} exists and is a {found.get('Type')}, not a SecureString",
            hint=f"delete it (aws ssm delete-parameter --name {name}), then deploy again",
        )
    stored = ssm.put_parameter(
        Name=name,
        Value=key,
        Type="SecureString",  # encrypted with the account's aws/ssm key
        Overwrite=found is not None,
        Description="The resizer's URL signing key (HMAC-SHA256); written by resizer deploy",
    )
    return int(stored["Version"])


def _legacy_key(clients: Clients, stack: str) -> str | None:
    """The key an older stack kept in its function's SIGNING_KEY variable, or None."""
    from botocore.exceptions import ClientError

    try:
        config = clients.client("lambda").get_function_configuration(FunctionName=f"{stack}-resize")
    except ClientError:
        return None
    return ((config.get("Environment") or {}).get("Variables") or {}).get("SIGNING_KEY") or None


def read(clients: Clients, name: str, version: int = 0) -> str:
    """The key a stack's function uses (for signing URLs): the SecureString's value at ``version``."""
    selector = f"{name}:{version}" if version else name
    return str(clients.client("ssm").get_parameter(Name=selector, WithDecryption=True)["Parameter"]["Value"])


@dataclass(frozen=True)
class SignedUrl:
    """A URL the stack's function accepts: the canonical path, signed with the stack's key."""

    url: str
    path: str  # canonical
    expires: int | None  # Unix seconds, or None: valid until the key changes


@translated
def signed_url(
    clients: Clients, stack_name: str, path: str, *, expires_in: int | None, now: float
) -> SignedUrl:
    """Sign ``path`` (made canonical) with the key the stack's function reads, under the stack's
    public URL; ConfigError when the path is invalid or the stack does not sign requests."""
    from operations import stack
    from resizer_function.errors import RequestRefused
    from resizer_function.request import parse_path
    from resizer_function.signing import sign

    try:
        request = parse_path("/" + path.strip().lstrip("/"))
    except RequestRefused as refused:
        raise ConfigError(f"invalid path: {refused.message}", hint="e.g. 300x200/photo.jpg") from None
    if expires_in is not None and expires_in <= 0:
        raise ConfigError("--expires must be a number of seconds above 0")
    found = stack.require(clients.client("cloudformation"), stack_name)
    parameters = stack.parameters(found)
    name = parameters.get(NAME_PARAMETER, "")
    if not name:
        raise ConfigError(
            f"stack {stack_name} does not sign requests: its URLs need no signature",
            hint="turn signing on with: resizer deploy -p SigningKey=...",
        )
    key = read(clients, name, int(parameters.get(VERSION_PARAMETER) or 0))
    outputs = stack.outputs(found)
    base = outputs.get("CdnUrl") or outputs.get("WebsiteUrl") or outputs.get("ApiUrl", "")
    expires = int(now) + expires_in if expires_in is not None else None
    return SignedUrl(f"{base}{request.url_path}?{sign(request.path, key, expires)}", request.path, expires)
