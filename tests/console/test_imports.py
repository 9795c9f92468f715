"""The import rules of docs/ARCHITECTURE.md, read from the sources (lazy imports included): the front
ends reach the function's code only through operations/, and never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "console": ("resizer_function", "cli"),
    "cli": ("resizer_function", "console"),
    "operations": ("cli", "console", "typer", "fastapi", "starlette", "rich"),
}


def imported(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def breaches(package: str) -> list[str]:
    banned = FORBIDDEN[package]
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in imported(path)
        if module.split(".")[0] in banned
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_the_architecture_allows(package: str) -> None:
    assert breaches(package) == []


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from resizer_function.request import parse_path\n")
    assert imported(source) == [(2, "resizer_function.request")]


def test_routes_share_helpers_through_modules_not_through_each_other() -> None:
    routes = ROOT / "console" / "routes"
    found = [
        f"{path.name}:{line} imports {module}"
        for path in sorted(routes.glob("*.py"))
        for line, module in imported(path)
        if module.startswith("console.routes")
    ]
    assert found == []


def test_the_front_ends_make_no_boto3_call_themselves() -> None:
    """AWS is reached through operations/ (translated errors, one Clients), never a raw client."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("console", "cli")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if ".client(" in text or "import boto3" in text or "botocore" in text
    ]
    assert found == []
