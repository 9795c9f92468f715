"""A template's ``Rules``, checked against the parameter values as CloudFormation does (moto ignores them).

Each rule applies when its ``RuleCondition`` holds (or has none); then every assertion must
hold, or the stack operation is refused with the assertion's ``AssertDescription``. Rule
functions understood: Fn::And, Fn::Or, Fn::Not, Fn::Equals, Fn::Contains, Fn::EachMemberEquals,
Fn::EachMemberIn, and Ref to a parameter; a rule using any other function is left to AWS.
"""

from typing import Any


class _Unknown(Exception):
    """A rule function this module does not evaluate."""


def broken(template: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """The descriptions of the assertions that fail for these parameter values (defaults filled in)."""
    declared = template.get("Parameters") or {}
    values = {name: parameters.get(name, (d or {}).get("Default")) for name, d in declared.items()}
    problems = []
    for name, rule in (template.get("Rules") or {}).items():
        if not isinstance(rule, dict):
            continue
        try:
            if "RuleCondition" in rule and not _value(rule["RuleCondition"], values):
                continue
            for assertion in rule.get("Assertions") or []:
                if not _value(assertion.get("Assert"), values):
                    problems.append(assertion.get("AssertDescription") or f"Rule {name} failed")
        except _Unknown:
            continue
    return problems


def _value(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return _text(values.get(argument))
        arguments = [_value(a, values) for a in (argument if isinstance(argument, list) else [argument])]
        if function == "Fn::And":
            return all(arguments)
        if function == "Fn::Or":
            return any(arguments)
        if function == "Fn::Not":
            return not arguments[0]
        if function == "Fn::Equals":
            return _text(arguments[0]) == _text(arguments[1])
        if function == "Fn::Contains":
            return _text(arguments[1]) in [_text(v) for v in arguments[0]]
        if function == "Fn::EachMemberEquals":
            return all(_text(v) == _text(arguments[1]) for v in _list(arguments[0]))
        if function == "Fn::EachMemberIn":
            return all(_text(v) in [_text(w) for w in arguments[1]] for v in _list(arguments[0]))
        raise _Unknown(function)
    return node


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, list) else ("" if value is None else str(value))
