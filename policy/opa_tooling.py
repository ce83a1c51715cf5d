"""Rego hygiene with the real `opa` binary: `opa fmt`, `opa check --strict`, `opa test --coverage`.

The pack is checked as the bundle sidecars load (data under `data.sluicegate`), with its tests.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from policy.opa_bundle import write_bundle_dir
from policy.rule_pack import RulePack

_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class OpaCheck:
    """One check's result; `detail` is what OPA said when it failed, or a summary."""

    name: str
    passed: bool
    detail: str = ""


def _run(opa: str, *args: str) -> subprocess.CompletedProcess[str]:
    # The binary is the operator's own `opa` (an option or PATH), never request input.
    return subprocess.run(  # noqa: S603
        [opa, *args], capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False
    )


def _said(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr).strip()


def rego_coverage(report: dict[str, object]) -> float:
    """Percent of the rule lines (test files left out) that the tests ran."""
    covered = uncovered = 0
    files = report.get("files", {})
    assert isinstance(files, dict)
    for name, lines in files.items():
        if name.endswith("_test.rego"):
            continue
        covered += int(lines.get("covered_lines", 0))
        uncovered += int(lines.get("not_covered_lines", 0))
    total = covered + uncovered
    return 100.0 if total == 0 else 100.0 * covered / total


def opa_checks(pack: RulePack, opa: str, *, min_coverage: float) -> list[OpaCheck]:
    """Format, strict compile, tests and coverage of the pack's Rego, on the real OPA."""
    checks: list[OpaCheck] = []
    formatted = _run(opa, "fmt", "--list", str(pack.path / "rego"))
    unformatted = formatted.stdout.split()
    checks.append(
        OpaCheck(
            "opa fmt",
            formatted.returncode == 0 and not unformatted,
            f"not formatted (run `opa fmt -w`): {', '.join(unformatted)}"
            if unformatted
            else _said(formatted),
        )
    )
    with tempfile.TemporaryDirectory(prefix="sluicegate-opa-") as folder:
        bundle = str(write_bundle_dir(pack, Path(folder), include_tests=True))
        strict = _run(opa, "check", "--strict", "--bundle", bundle)
        checks.append(OpaCheck("opa check --strict", strict.returncode == 0, _said(strict)))
        tests = _run(opa, "test", "--bundle", bundle, "--verbose")
        checks.append(OpaCheck("opa test", tests.returncode == 0, _said(tests)))
        covered = _run(opa, "test", "--bundle", bundle, "--coverage", "--format", "json")
        try:
            percent = rego_coverage(json.loads(covered.stdout))
        except ValueError:
            checks.append(OpaCheck("opa test --coverage", False, _said(covered)))
        else:
            checks.append(
                OpaCheck(
                    "opa test --coverage",
                    percent >= min_coverage,
                    f"{percent:.1f}% of Rego lines covered (at least {min_coverage:g}% wanted)",
                )
            )
    return checks
