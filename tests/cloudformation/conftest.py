"""The production template, decoded once for every test of tests/cloudformation, and the helpers
they share to read it."""

import pytest
from cfnlint.decode import decode_str

from operations.template import DEFAULT_TEMPLATE as TEMPLATE


@pytest.fixture(scope="session")
def template() -> dict:
    """The decoded template (read only: the tests share one copy)."""
    decoded, errors = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not errors, [str(e) for e in errors]
    return decoded


@pytest.fixture(scope="session")
def resources(template) -> dict:
    return template["Resources"]


@pytest.fixture(scope="session")
def params(template) -> dict:
    return template["Parameters"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements(role: dict) -> list[dict]:
    """A role's inline policy statements; one present under a condition only (an Fn::If whose
    other branch is AWS::NoValue) is given with that condition as its ``_condition``."""
    found = []
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                condition, present, absent = statement["Fn::If"]
                assert absent == {"Ref": "AWS::NoValue"}
                found.append({**present, "_condition": condition})
            else:
                found.append(statement)
    return found
