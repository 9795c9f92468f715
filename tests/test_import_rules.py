"""Who may import whom (docs/ARCHITECTURE.md), checked on every import statement of the sources
(imports inside functions included)."""

import ast
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
# localcloud modules that operations/ may import anywhere (standard library, and botocore for regions)
SHARED = {"localcloud.contract", "localcloud.process", "localcloud.regions"}
# the other localcloud modules operations/ imports, inside a function only (moto is heavy)
LAZY_LOCALCLOUD = {"operations/local.py", "operations/package.py"}
# top-level packages a package never imports (its own modules' imports included)
FORBIDDEN = {
    "console": ("resizer_function", "cli", "localcloud"),
    "cli": ("resizer_function", "console", "localcloud"),
    "operations": ("cli", "console", "typer", "fastapi", "starlette", "rich"),
    "localcloud": ("operations", "cli", "console"),
}


class Import(NamedTuple):
    line: int
    module: str  # ``from a import b``: a.b
    top_level: bool


def imports(path: Path) -> list[Import]:
    """Every absolute import of a source file, at module level or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [Import(node.lineno, f"{node.module}.{a.name}", id(node) in top) for a in node.names]
    return found


def sources(package: str) -> list[tuple[str, Path]]:
    return [(str(p.relative_to(ROOT)), p) for p in sorted((ROOT / package).rglob("*.py"))]


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_the_architecture_allows(package: str) -> None:
    wrong = [
        f"{name}:{found.line} imports {found.module}"
        for name, path in sources(package)
        for found in imports(path)
        if under(found.module, *FORBIDDEN[package])
    ]
    assert wrong == []


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("import os\n\ndef f():\n    from resizer_function.request import parse_path\n")
    assert imports(source) == [Import(1, "os", True), Import(4, "resizer_function.request.parse_path", False)]


def test_the_shared_local_cloud_modules_import_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"localcloud"}
    for module, extra in (
        ("contract", set()),
        ("process", set()),
        ("lambda_worker", set()),
        ("regions", {"botocore"}),
    ):
        found = {i.module for i in imports(ROOT / "localcloud" / f"{module}.py")}
        outside = {m for m in found if m.split(".")[0] not in allowed | extra}
        inside = {m for m in found if under(m, "localcloud") and m != "localcloud"}
        assert outside == set(), module
        assert inside <= {
            "localcloud.contract",
            "localcloud.lambda_worker",
            "localcloud.lambda_worker.die_with_parent",
        }


def test_operations_imports_localcloud_only_through_the_shared_modules_or_lazily() -> None:
    wrong = [
        (name, found.module)
        for name, path in sources("operations")
        for found in imports(path)
        if under(found.module, "localcloud")
        and not any(under(found.module, s) for s in SHARED)
        and not (name in LAZY_LOCALCLOUD and not found.top_level)
    ]
    assert wrong == []


def test_routes_share_helpers_through_modules_not_through_each_other() -> None:
    found = [
        f"{path.name}:{i.line} imports {i.module}"
        for path in sorted((ROOT / "console" / "routes").glob("*.py"))
        for i in imports(path)
        if under(i.module, "console.routes")
    ]
    assert found == []


def test_the_front_ends_make_no_boto3_call_themselves() -> None:
    """AWS is reached through operations/ (translated errors, one Clients), never a raw client."""
    found = [
        f"{name}:{number}"
        for package in ("console", "cli")
        for name, path in sources(package)
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if ".client(" in text or "import boto3" in text or "botocore" in text
    ]
    assert found == []
