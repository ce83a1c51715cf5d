"""A table has one owner: the domain whose `tables.py` declares it.

Other domains may read it through its typed handles (`DECISIONS`, `REVIEW_TASKS`, ...) or
the owner's functions, but only the owner writes it, only the owner names its row class,
and `__table__` is read in one place (`store/table.py`). Routers and pages touch no table at
all (an import-linter contract in pyproject.toml)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SERVICE = Path(__file__).parents[2] / "service"
WRITES = {"insert", "update", "delete"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SERVICE.rglob("*.py")):
        if "migrations" not in path.parts:
            relative = path.relative_to(SERVICE.parent).with_suffix("")
            yield ".".join(relative.parts), ast.parse(path.read_text())


def _domain(module: str) -> str:
    return module.split(".")[1]


def _foreign_tables(module: str, tree: ast.Module) -> dict[str, str]:
    """The names this module imports from another domain's tables, with that domain."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".tables"):
            owner = _domain(node.module or "")
            if owner != _domain(module):
                found |= {alias.asname or alias.name: owner for alias in node.names}
    return found


def test_only_the_owner_names_a_row_class() -> None:
    named = [
        f"{module} imports {name} from {owner}/"
        for module, tree in _modules()
        for name, owner in _foreign_tables(module, tree).items()
        if name.endswith("Row")
    ]
    assert named == []


def test_only_the_owner_writes_its_tables() -> None:
    writes = []
    for module, tree in _modules():
        foreign = _foreign_tables(module, tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in WRITES
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in foreign
            ):
                writes.append(f"{module}:{node.lineno} {node.func.id}({node.args[0].id})")
    assert writes == []


def test_table_attributes_are_read_in_one_place() -> None:
    readers = [
        module
        for module, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "__table__"
    ]
    assert readers == ["service.store.table"]
