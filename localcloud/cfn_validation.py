"""Template validation, before anything is created: what CreateStack, UpdateStack and CreateChangeSet refuse.

``validate`` refuses, with one ValidationError naming every problem (the first few in full), a
template that is not YAML or JSON or has no Resources, a resource type moto cannot model, a
cfn-lint error (E rules), a parameter unknown, missing or outside its constraints, a broken
``Rules`` assertion (localcloud.cfn_rules), a changed resource type on an update, or a
dependency cycle.
"""

import re
from functools import lru_cache
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.cloudformation.parsing import NULL_MODELS, get_model_map

from localcloud import cfn_dependencies, cfn_rules

LINT_FALLBACK_REGION = "us-east-1"
_MAX_PROBLEMS_SHOWN = 5


def parse_template(body: str | dict) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        template = Stack.parse_template(body)
    except Exception as exc:  # YAML or JSON: both parsers have many error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(
            message=f"Template format error: not well-formed YAML or JSON ({first})"
        ) from None
    if not isinstance(template, dict):
        raise ValidationError(message="Template format error: the template is not a YAML or JSON object")
    return template


def supported(resource_type: Any) -> bool:
    """Whether moto (with localcloud's models) can create this type; WaitConditions are no-ops."""
    return isinstance(resource_type, str) and (
        resource_type in get_model_map()
        or resource_type in NULL_MODELS
        or resource_type.startswith("Custom::")
    )


@lru_cache(maxsize=64)
def lint_errors(body: str, region: str) -> tuple[tuple[str, str], ...]:
    """cfn-lint's errors (severity "error", the E rules) as (path, text), cached per template."""
    from cfnlint.api import ManualArgs, lint
    from cfnlint.helpers import REGIONS

    matches = lint(body, config=ManualArgs(regions=[region if region in REGIONS else LINT_FALLBACK_REGION]))
    found = []
    for match in matches:
        if match.rule.severity != "error":
            continue
        path = "/".join(str(p) for p in getattr(match, "path", None) or [])
        where = f"{path} (line {match.linenumber})" if path else f"line {match.linenumber}"
        found.append((path, f"{where}: {match.message} [{match.rule.id}]"))
    return tuple(found)


def validate(
    body: str,
    parameters: dict[str, Any],
    region: str,
    *,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The parsed template, or a ValidationError naming every problem (the first few in full)."""
    template = parse_template(body)
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise ValidationError(message="Template format error: At least one Resources member must be defined.")
    lint = lint_errors(body, region) if isinstance(body, str) else ()
    problems: list[str] = []
    unknown_types = {path.split("/")[1] for path, text in lint if "[E3006]" in text and path.count("/") >= 2}
    unsupported = {
        lid: r.get("Type")
        for lid, r in resources.items()
        if isinstance(r, dict) and not supported(r.get("Type"))
    }
    unrecognized = sorted({str(t) for lid, t in unsupported.items() if lid in unknown_types})
    if unrecognized:
        problems.append(f"Template format error: Unrecognized resource types: [{', '.join(unrecognized)}]")
    for lid, resource_type in unsupported.items():
        if lid not in unknown_types:
            problems.append(
                f"Resource {lid}: type {resource_type} is not supported by the local cloud "
                "(moto has no CloudFormation model for it), so the stack cannot be created here"
            )
    problems += [
        f"Template error: {text}"
        for path, text in lint
        if not ("[E3006]" in text and path.count("/") >= 2 and path.split("/")[1] in unsupported)
    ]
    problems += check_parameters(template, parameters)
    problems += cfn_rules.broken(template, parameters)
    if previous:
        before = previous.get("Resources") or {}
        changed = sorted(
            lid for lid, r in resources.items() if lid in before and before[lid].get("Type") != r.get("Type")
        )
        if changed:
            problems.append(
                "Update of resource type is not permitted. The new template modifies resource type of "
                f"the following resources: [{', '.join(changed)}]"
            )
    if not problems:
        cfn_dependencies.dependency_order(resources)  # a cycle is a ValidationError too
        return template
    more = len(problems) - _MAX_PROBLEMS_SHOWN
    shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
    raise ValidationError(message=shown)


def check_parameters(template: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """CloudFormation's parameter checks: unknown names, missing values, the declared constraints."""
    declared = template.get("Parameters") or {}
    problems = []
    unknown = sorted(set(given) - set(declared))
    if unknown:
        problems.append(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [n for n, d in declared.items() if n not in given and (d or {}).get("Default") is None]
    if missing:
        problems.append(f"Parameters: [{', '.join(missing)}] must have values")
    for name, definition in declared.items():
        value = given.get(name, (definition or {}).get("Default"))
        if value is not None:
            problem = _constraint(name, definition or {}, value)
            if problem:
                problems.append(problem)
    return problems


def _constraint(name: str, definition: dict[str, Any], value: Any) -> str | None:
    kind = str(definition.get("Type", "String"))
    text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
    items = (
        [v.strip() for v in text.split(",")] if kind.startswith(("List<", "CommaDelimitedList")) else [text]
    )

    def fail(default: str) -> str:
        described = definition.get("ConstraintDescription")
        return f"Parameter '{name}' failed to satisfy constraint: {described}" if described else default

    for item in items:
        if "Number" in kind:
            try:
                number = float(item)
            except ValueError:
                return f"Parameter '{name}' must be a number"
            low, high = definition.get("MinValue"), definition.get("MaxValue")
            if low is not None and number < float(low):
                return fail(f"Parameter '{name}' must be a number not less than {low}")
            if high is not None and number > float(high):
                return fail(f"Parameter '{name}' must be a number not greater than {high}")
        allowed = definition.get("AllowedValues")
        if allowed is not None and item not in {plain(a) for a in allowed}:
            return fail(f"Parameter '{name}' must be one of AllowedValues")
        if kind == "String":
            low, high = definition.get("MinLength"), definition.get("MaxLength")
            if low is not None and len(item) < int(low):
                return fail(f"Parameter '{name}' must contain at least {low} characters")
            if high is not None and len(item) > int(high):
                return fail(f"Parameter '{name}' must contain at most {high} characters")
            pattern = definition.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(str(pattern), item):
                return fail(f"Parameter '{name}' must match pattern {pattern}")
    return None


def plain(value: Any) -> str:
    """A parameter value as CloudFormation compares it: text (true, 3 rather than True, 3.0)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
