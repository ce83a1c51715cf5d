"""Run a pack's Rego tests (`test_*` rules in `*_test.rego`) on the embedded engine."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import regopy
from regopy.rego_shared import rego_get_error

from policy.rule_pack import RulePack

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST = re.compile(r"^(test_\w+)\s*(?:if\b|\{|:?=)", re.MULTILINE)


@dataclass(frozen=True)
class RegoTestResult:
    """One test rule's result."""

    name: str
    passed: bool
    detail: str = ""


def run_rego_tests(pack: RulePack) -> list[RegoTestResult]:
    """Evaluate every test rule; a test passes when it is defined and true."""
    interpreter = regopy.Interpreter()
    interpreter.strict_built_in_errors = True
    for name, source in sorted({**pack.rego_modules, **pack.rego_tests}.items()):
        interpreter.add_module(name, source)
    interpreter.add_data_json(json.dumps(pack.raw_data))
    results = []
    for source in pack.rego_tests.values():
        package = _PACKAGE.search(source)
        if package is None:
            continue
        for test in dict.fromkeys(_TEST.findall(source)):
            query = f"data.{package.group(1)}.{test}"
            output = interpreter.query(query)
            if not output.ok():
                results.append(RegoTestResult(query, False, str(rego_get_error(interpreter._impl))))
                continue
            expressions = output.results[0].expressions if output.results else []
            value = expressions[0] if expressions else None
            detail = "" if value is True else f"result {json.dumps(value)}"
            results.append(RegoTestResult(query, value is True, detail))
    return results
