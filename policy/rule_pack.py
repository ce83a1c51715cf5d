"""Loading a rule pack directory: Rego modules, data files and Python rules, with a revision."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policy.errors import RulePackError
from policy.pack_data import PackData
from policy.rule_api import PythonRule, rules_in

DATA_ROOT = "sluicegate"  # every data file `data/x.yaml` becomes `data.sluicegate.x`
_RULE_API = "policy.rule_api"
_PACK_PARTS = ("rego", "data", "python")


@dataclass(frozen=True)
class RulePack:
    """A loaded rule pack; `revision` is a content hash of every file that can change a decision."""

    path: Path
    revision: str
    data: PackData
    raw_data: dict[str, Any]
    rego_modules: dict[str, str]
    rego_tests: dict[str, str]
    python_rules: tuple[PythonRule, ...]

    @property
    def cases_dir(self) -> Path:
        """Where the pack's golden decision cases live."""
        return self.path / "cases"


def load_rule_pack(path: Path) -> RulePack:
    """Read and validate a pack directory; any problem raises `RulePackError` naming the file."""
    if not path.is_dir():
        raise RulePackError(f"rule pack {path} is not a directory")
    raw = {DATA_ROOT: _load_data(path / "data")}
    try:
        data = PackData.model_validate(raw[DATA_ROOT])
    except ValidationError as exc:
        raise RulePackError(f"rule pack data in {path / 'data'} is invalid: {exc}") from exc
    modules, tests = _load_rego(path / "rego")
    return RulePack(
        path=path,
        revision=pack_revision(path),
        data=data,
        raw_data=raw,
        rego_modules=modules,
        rego_tests=tests,
        python_rules=tuple(_load_python_rules(path / "python")),
    )


def pack_revision(path: Path) -> str:
    """sha256 over the relative names and bytes of the pack's rego, data and python files."""
    digest = hashlib.sha256()
    for part in _PACK_PARTS:
        for file in sorted((path / part).rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()}"


def _load_data(folder: Path) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for file in sorted(folder.glob("*")):
        if file.suffix not in (".yaml", ".yml", ".json"):
            continue
        try:
            text = file.read_text(encoding="utf-8")
            document = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise RulePackError(f"cannot read data file {file}: {exc}") from exc
        if file.stem in documents:
            raise RulePackError(f"two data files define {file.stem!r}")
        documents[file.stem] = document
    return documents


def _load_rego(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    modules: dict[str, str] = {}
    tests: dict[str, str] = {}
    for file in sorted(folder.rglob("*.rego")):
        name = file.relative_to(folder).as_posix()
        target = tests if file.stem.endswith("_test") else modules
        target[name] = file.read_text(encoding="utf-8")
    if not modules:
        raise RulePackError(f"no Rego modules in {folder}")
    return modules, tests


def _check_imports(file: Path, tree: ast.Module) -> None:
    """A rule file may import the standard library and `policy.rule_api`, nothing else."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [("." * node.level) + (node.module or "")]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name != _RULE_API and (not top or top not in sys.stdlib_module_names):
                raise RulePackError(
                    f"{file}:{node.lineno} imports {name!r}; rules may import "
                    f"only {_RULE_API} and the standard library"
                )


def _load_python_rules(folder: Path) -> list[PythonRule]:
    rules: list[PythonRule] = []
    for file in sorted(folder.glob("*.py")):
        source = file.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source, filename=str(file))
        except SyntaxError as exc:
            raise RulePackError(f"{file} is not valid Python: {exc}") from exc
        _check_imports(file, tree)
        spec = importlib.util.spec_from_file_location(f"sluicegate_pack_rules.{file.stem}", file)
        if spec is None or spec.loader is None:
            raise RulePackError(f"cannot load {file}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise RulePackError(f"{file} fails to load: {exc!r}") from exc
        rules.extend(rules_in(vars(module).values()))
    names = [r.name for r in rules]
    if len(names) != len(set(names)):
        raise RulePackError(f"two Python rules share a name in {folder}")
    return rules
