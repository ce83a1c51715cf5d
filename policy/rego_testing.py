"""Run a pack's Rego tests (`test_*` rules in `*_test.rego`) on the embedded engine."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import sluicegate_native

from policy.backends.rego_embedded import compile_rego
from policy.errors import RulePackError
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
    modules = {**pack.rego_modules, **pack.rego_tests}
    results = []
    for source in pack.rego_tests.values():
        package = _PACKAGE.search(source)
        if package is None:
            continue
        for test in dict.fromkeys(_TEST.findall(source)):
            query = f"data.{package.group(1)}.{test}"
            try:
                output = compile_rego(modules, pack.raw_data, query).evaluate("{}")
            except (RulePackError, sluicegate_native.RegoError) as exc:
                results.append(RegoTestResult(query, False, str(exc)))
                continue
            value = None if output is None else json.loads(output)
            detail = "" if value is True else f"result {output or 'undefined'}"
            results.append(RegoTestResult(query, value is True, detail))
    return results
