"""Template parameters on a deploy: values checked against their constraints, the previous values kept.

``validate`` refuses a value CloudFormation would refuse (Type Number, MinValue/MaxValue,
AllowedValues, AllowedPattern, MinLength/MaxLength, unknown names) before any AWS call, naming the
parameter and its constraint. ``resolve`` turns the given values and the stack's current ones
into the CreateChangeSet parameter list - every omitted parameter of an existing stack keeps its
value (``UsePreviousValue``), never reverting to its default - and the list of changes to show,
with NoEcho values masked as ``****``.
"""

import hashlib
import re
from dataclasses import dataclass

from operations.errors import ConfigError

MASK = "****"
FINGERPRINT_ROUNDS = 200_000


@dataclass(frozen=True)
class ParameterChange:
    """One template parameter on a deploy: its value before and after (masked when NoEcho)."""

    name: str
    old: str | None  # None: the stack does not have it yet
    new: str
    secret: bool = False
    changed: bool | None = False  # None: a NoEcho value was given and nothing recorded tells

    @property
    def shown(self) -> str:
        """`old → new`, or the value alone when unchanged; NoEcho values as ****."""
        if self.changed is None:
            return f"{MASK} → {MASK} (given; the current value is hidden)"
        if not self.changed:
            return f"{self.new} (unchanged)" if not self.secret else f"{MASK} (unchanged)"
        if self.old is None:  # a new stack (or a parameter new in the template): its value
            return self.new
        return f"{self.old} → {self.new}" + (" (changed)" if self.secret else "")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def violation(name: str, definition: dict, value: str) -> str | None:
    """Why CloudFormation would refuse ``value`` for this parameter, or None."""
    kind = str(definition.get("Type", "String"))
    if kind == "Number":
        number = _number(value.strip())
        if number is None:
            return f"{name} must be a number (Type: Number), not {value!r}"
        low, high = definition.get("MinValue"), definition.get("MaxValue")
        if low is not None and number < float(low):
            return f"{name} must be at least {low} (MinValue), not {value}"
        if high is not None and number > float(high):
            return f"{name} must be at most {high} (MaxValue), not {value}"
    allowed = definition.get("AllowedValues")
    if (
        allowed is not None
        and value not in [str(a) for a in allowed]
        and (kind != "Number" or _number(value) not in [_number(str(a)) for a in allowed])
    ):
        shown = ", ".join(str(a) for a in allowed)
        return f"{name} must be one of its AllowedValues ({shown}), not {value!r}"
    if kind == "String":
        low, high = definition.get("MinLength"), definition.get("MaxLength")
        if low is not None and len(value) < int(low):
            return f"{name} must be at least {low} characters long (MinLength)"
        if high is not None and len(value) > int(high):
            return f"{name} must be at most {high} characters long (MaxLength)"
        pattern = definition.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), value):
            described = definition.get("ConstraintDescription")
            return f"{name} must match its AllowedPattern {pattern}" + (f": {described}" if described else "")
    return None


def validate(declared: dict[str, dict], given: dict[str, str], set_by_tool: set[str]) -> None:
    """ConfigError for a name the template lacks, a tool-only name, or a value outside its constraints."""
    reserved = sorted(set(given) & set_by_tool)
    if reserved:
        raise ConfigError(f"{', '.join(reserved)} is set by deploy itself (it publishes the code)")
    unknown = sorted(set(given) - set(declared))
    if unknown:
        settable = ", ".join(sorted(set(declared) - set_by_tool))
        raise ConfigError(
            f"unknown parameter(s) {', '.join(unknown)}", hint=f"the template takes: {settable}"
        )
    for name in sorted(given):
        problem = violation(name, declared[name], str(given[name]))
        if problem:
            described = declared[name].get("Description", "")
            raise ConfigError(f"invalid parameter value: {problem}", hint=str(described))


def secret_names(declared: dict[str, dict]) -> set[str]:
    return {name for name, spec in declared.items() if str(spec.get("NoEcho", "")).lower() == "true"}


def fingerprint(salt: str, value: str) -> str:
    """A slow salted digest of a NoEcho value, to tell later whether a given value is the same one.

    It discloses no more than the signed URLs the service hands out (each an HMAC of a public
    path under the same key), and costs an offline guess 200,000 rounds of PBKDF2.
    """
    raw = hashlib.pbkdf2_hmac("sha256", value.encode(), f"resizer:{salt}".encode(), FINGERPRINT_ROUNDS)
    return raw.hex()[:24]


@dataclass(frozen=True)
class Resolved:
    """What a change set is sent, and what it changes."""

    api: list[dict]  # CreateChangeSet's Parameters
    effective: dict[str, str]  # the values the stack will have (NoEcho ones as ****)
    changes: list[ParameterChange]
    fingerprints: dict[str, str]  # NoEcho name -> fingerprint of the value it will have, when known


def resolve(
    declared: dict[str, dict],
    given: dict[str, str],
    current: dict[str, str] | None,
    *,
    set_by_tool: dict[str, str],
    recorded: dict[str, str],
    salt: str,
) -> Resolved:
    """The parameters of a CREATE (``current`` None) or an UPDATE that keeps every omitted value."""
    secrets = secret_names(declared)
    api: list[dict] = []
    effective: dict[str, str] = {}
    changes: list[ParameterChange] = []
    fingerprints: dict[str, str] = {}
    for name in sorted(declared):
        definition = declared[name]
        old = None if current is None else current.get(name)
        secret = name in secrets
        if name in set_by_tool:
            value = set_by_tool[name]
            api.append({"ParameterKey": name, "ParameterValue": value})
        elif name in given:
            value = str(given[name])
            api.append({"ParameterKey": name, "ParameterValue": value})
            if secret:
                fingerprints[name] = fingerprint(salt, value)
        elif old is not None:
            value = old
            api.append({"ParameterKey": name, "UsePreviousValue": True})
            if secret and name in recorded:
                fingerprints[name] = recorded[name]
        else:  # sent, not left to the default: the stack then records every value it runs with
            value = str(definition.get("Default", ""))
            api.append({"ParameterKey": name, "ParameterValue": value})
            if secret:
                fingerprints[name] = fingerprint(salt, value)
        effective[name] = MASK if secret else value
        if name in set_by_tool:
            continue
        if secret:
            if old is None:
                changed: bool | None = True
            elif name not in given:
                changed = False
            elif name in recorded:
                changed = recorded[name] != fingerprints[name]
            else:
                changed = None
            changes.append(ParameterChange(name, None if old is None else MASK, MASK, True, changed))
        else:
            changes.append(ParameterChange(name, old, value, False, old != value))
    return Resolved(api, effective, changes, fingerprints)
