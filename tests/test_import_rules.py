"""Who may import whom (docs/ARCHITECTURE.md), checked on every import statement of the sources."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# stdlib-only modules of localcloud that operations/ may import anywhere
SHARED = {"localcloud.contract", "localcloud.process"}
# the other localcloud modules operations/ imports, inside a function only (moto is heavy)
LAZY_LOCALCLOUD = {"operations/local.py", "operations/package.py"}
# the one import of operations by localcloud (botocore's region table): to move, see ARCHITECTURE.md
EXCUSED = {("localcloud/region_guard.py", "operations.regions")}


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level) of every import in a source file (``from a import b``: a.b)."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(f"{node.module}.{alias.name}", id(node) in top) for alias in node.names]
    return found


def sources(package: str) -> list[tuple[str, Path]]:
    return [(str(p.relative_to(ROOT)), p) for p in sorted((ROOT / package).rglob("*.py"))]


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_localcloud_imports_no_front_end_and_no_operations() -> None:
    wrong = [
        (name, module)
        for name, path in sources("localcloud")
        for module, _ in imports(path)
        if under(module, "operations", "cli", "console") and (name, module) not in EXCUSED
    ]
    assert wrong == []


def test_the_contract_and_the_process_module_import_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"localcloud"}
    for module in ("contract", "process", "lambda_worker"):
        found = {m for m, _ in imports(ROOT / "localcloud" / f"{module}.py")}
        outside = {m for m in found if m.split(".")[0] not in allowed}
        inside = {m for m in found if under(m, "localcloud") and m != "localcloud"}
        assert outside == set(), module
        assert inside <= {
            "localcloud.contract",
            "localcloud.lambda_worker",
            "localcloud.lambda_worker.die_with_parent",
        }


def test_operations_imports_localcloud_only_through_the_contract_or_lazily() -> None:
    wrong = []
    for name, path in sources("operations"):
        for module, top_level in imports(path):
            if not under(module, "localcloud"):
                continue
            shared = any(under(module, s) for s in SHARED)
            lazy_ok = name in LAZY_LOCALCLOUD and not top_level
            if not (shared or lazy_ok):
                wrong.append((name, module))
    assert wrong == []


def test_the_front_ends_never_import_each_other_nor_the_local_cloud() -> None:
    for package, others in (("cli", ("console", "localcloud")), ("console", ("cli", "localcloud"))):
        wrong = [(n, m) for n, p in sources(package) for m, _ in imports(p) if under(m, *others)]
        assert wrong == [], package
