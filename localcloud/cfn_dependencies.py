"""The order of a template's resources: what each refers to (Ref, GetAtt, Sub, DependsOn); a cycle refused."""

import re
from collections.abc import Iterable
from typing import Any

from moto.cloudformation.exceptions import ValidationError

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def references(node: Any, names: Iterable[str]) -> set[str]:
    """The names among ``names`` that node refers to: Ref, Fn::GetAtt, and ${...} in Fn::Sub."""
    wanted = set(names)
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for child in item:
                walk(child)
        if not isinstance(item, dict):
            return
        for key, value in item.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                local = set(variables) if isinstance(variables, dict) else set()
                found.update(m.split(".")[0] for m in _SUB_VARIABLE.findall(str(text)) if m not in local)
                walk(variables)
            else:
                walk(value)

    walk(node)
    return found & wanted


def dependencies(resource: dict[str, Any], names: Iterable[str]) -> set[str]:
    depends_on = resource.get("DependsOn") or []
    explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    return (references(resource.get("Properties"), names) | explicit) & set(names)


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids, each after what it depends on; otherwise in template order."""
    names = list(resources)
    graph = {lid: dependencies(body or {}, names) - {lid} for lid, body in resources.items()}
    position = {lid: i for i, lid in enumerate(names)}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(lid: str, path: list[str]) -> None:
        if state.get(lid) == "done":
            return
        if state.get(lid) == "visiting":
            cycle = path[path.index(lid) :]
            raise ValidationError(
                message=f"Circular dependency between resources: [{', '.join(sorted(cycle))}]"
            )
        state[lid] = "visiting"
        for dependency in sorted(graph[lid], key=position.__getitem__):
            visit(dependency, [*path, lid])
        state[lid] = "done"
        order.append(lid)

    for lid in names:
        visit(lid, [])
    return order
