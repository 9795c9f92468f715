"""The stack's Lambda functions by role (the resizer, the cleanup), each with its log group."""

from collections.abc import Mapping
from dataclasses import dataclass

from operations import stack
from operations.aws import Clients, translated
from operations.errors import ConfigError

ROLES = ("resize", "cleanup")
CHOICES = (*ROLES, "all")


@dataclass(frozen=True)
class Function:
    """One of the stack's functions: what it does (``role``), its name and its log group."""

    role: str
    name: str
    log_group: str


def log_group(name: str) -> str:
    """The log group Lambda writes a function's lines to unless told otherwise (/aws/lambda/NAME)."""
    return f"/aws/lambda/{name}"


def of_outputs(outputs: Mapping[str, str]) -> list[Function]:
    """The functions the outputs name, resize first; a stack made by a template older than the
    cleanup function has no Cleanup* outputs, so it lists the resize function alone."""
    found = []
    for role, name_key, group_key in (
        ("resize", "FunctionName", "LogGroupName"),
        ("cleanup", "CleanupFunctionName", "CleanupLogGroupName"),
    ):
        if name := outputs.get(name_key):
            found.append(Function(role, name, outputs.get(group_key) or log_group(name)))
    return found


def chosen(outputs: Mapping[str, str], stack_name: str, which: str = "all") -> list[Function]:
    """The functions ``which`` (resize, cleanup or all) picks; ConfigError when the stack has none."""
    if which not in CHOICES:
        raise ConfigError(f"unknown function {which!r}", hint=f"one of {', '.join(CHOICES)}")
    found = of_outputs(outputs)
    if not any(f.role == "resize" for f in found):
        raise ConfigError(f"stack {stack_name} has no FunctionName output")
    picked = found if which == "all" else [f for f in found if f.role == which]
    if not picked:
        raise ConfigError(
            f"stack {stack_name} has no cleanup function (it was deployed by an older template)",
            hint="`resizer deploy` adds it; --function resize or all shows the resize function",
        )
    return picked


@translated
def of_stack(clients: Clients, stack_name: str, which: str = "all") -> list[Function]:
    """The stack's functions that ``which`` picks, from its outputs; StackNotFound if there is none."""
    outputs = stack.outputs(stack.require(clients.client("cloudformation"), stack_name))
    return chosen(outputs, stack_name, which)
