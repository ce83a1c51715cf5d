"""Both Rego engines must decide alike: the default pack's cases, and probes of Rego semantics.

A divergence fails with the proposal, both decisions and the rules whose verdicts differ.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy.gate import Gate
from policy.golden_cases import load_cases
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.engines import build_gate
from service.settings import Settings
from tests.fixtures import RULES
from tests.opa_sidecar import OpaProcess
from tests.policy.agreement import AGENT, ENVIRONMENTS, divergence

EXAMPLES = Path(__file__).parents[2] / "features" / "examples.yaml"


def _proposals() -> list[tuple[str, Proposal]]:
    found = [(case.id, case.proposal) for case in load_cases(RULES / "cases")]
    for name, body in yaml.safe_load(EXAMPLES.read_text(encoding="utf-8")).items():
        for environment in ENVIRONMENTS:
            placed = {**body, "action": {**body["action"], "environment": environment}}
            found.append((f"{name} in {environment}", Proposal.model_validate(placed)))
    return found


PROPOSALS = _proposals()


@pytest.mark.parametrize(("name", "proposal"), PROPOSALS, ids=[n for n, _ in PROPOSALS])
def test_the_engines_decide_alike(
    name: str, proposal: Proposal, both_gates: tuple[Gate, Gate]
) -> None:
    embedded, opa = (gate.decide(proposal, AGENT) for gate in both_gates)
    report = divergence(proposal, embedded, opa)
    assert report is None, report


def test_a_divergence_report_names_the_rule_and_both_results(
    both_gates: tuple[Gate, Gate],
) -> None:
    proposal = PROPOSALS[0][1]
    decision = both_gates[0].decide(proposal, AGENT)
    changed = decision.model_copy(
        update={"reasons": [r.model_copy(update={"message": "other"}) for r in decision.reasons]}
    )
    report = divergence(proposal, decision, changed)
    assert report is not None
    assert decision.reasons[0].rule in report
    assert '"other"' in report
    assert proposal.action.type in report


# -- probes: single Rego rules that exercise the corners where engines tend to differ ----------

# name -> (the verdict's message expression, an optional body)
PROBES: dict[str, tuple[str, str]] = {
    "float_sum": ('sprintf("%v", [0.1 + 0.2])', ""),
    "float_whole": ('sprintf("%v", [1000.0])', ""),
    "exponent": ('sprintf("%v", [1e3])', ""),
    "division": ('sprintf("%v", [10 / 4])', ""),
    "whole_division": ('sprintf("%v", [8 / 4])', ""),
    "big_integer": ('sprintf("%v", [12345678901234567890])', ""),
    "input_number": ('sprintf("%v", [input.proposal.action.amount.value])', ""),
    "input_number_as_d": ('sprintf("%d", [input.proposal.action.amount.value])', ""),
    "input_number_as_2f": ('sprintf("%.2f", [input.proposal.action.amount.value])', ""),
    "int_equals_float": ('sprintf("%v", [input.proposal.action.amount.value == 5000.0])', ""),
    "round_half": ('sprintf("%v", [round(2.5)])', ""),
    "format_int_of_float": ("format_int(3.9, 10)", ""),
    "set_marshalled": ("json.marshal({3, 1, 2})", ""),
    "set_printed": ('sprintf("%v", [{"b", "a"}])', ""),
    "object_marshalled": ('json.marshal({"b": 1, "a": [1, "x", null, true]})', ""),
    "array_printed": ('sprintf("%v", [[1, "a", {"k": "v"}]])', ""),
    "undefined_with_default": ('object.get(input, "missing", "default")', ""),
    "not_of_undefined": ('"defined"', "not input.missing"),
    "false_is_defined": ('"defined"', "x := false\n\tx == false"),
    "undefined_makes_rule_undefined": ('"defined"', "input.missing == false"),
    "count_of_set": ('sprintf("%v", [count({1, 1, 2})])', ""),
    "sum_mixed": ('sprintf("%v", [sum([1, 2.5])])', ""),
    "sort_mixed_types": ('sprintf("%v", [sort([3, "a", 1])])', ""),
    "regex_match": ('sprintf("%v", [regex.match(`^crm\\.`, "crm.update")])', ""),
    "glob_match": ('sprintf("%v", [glob.match("crm.*", ["."], "crm.update")])', ""),
    "unicode_case": ('concat("|", [lower("ÄB"), upper("straße")])', ""),
    "unicode_count": ('sprintf("%v", [count("straße")])', ""),
    "unicode_substring": ('substring("straße", 3, 2)', ""),
    "split_empty": ('sprintf("%v", [split("a,b,,c", ",")])', ""),
    "rfc3339": ('sprintf("%v", [time.parse_rfc3339_ns("2026-11-23T10:00:00Z")])', ""),
    "object_union": ('json.marshal(object.union({"a": 1}, {"a": 2, "b": 3}))', ""),
    "numbers_range": ('sprintf("%v", [numbers.range(1, 3)])', ""),
    "array_slice_past_end": ('sprintf("%v", [array.slice([1, 2, 3], 1, 5)])', ""),
    "units_bytes": ('sprintf("%v", [units.parse_bytes("1KiB")])', ""),
    "sprintf_of_function_argument": ('label("x")', ""),
}

# Differences found, each a thing rule authors must avoid (docs/rules.md lists them too). If an
# engine upgrade removes one, this test says so and the entry (and the doc) should go.
KNOWN_DIFFERENCES = {
    "float_sum": (
        "0.1 + 0.2: regorus adds binary doubles (0.30000000000000004), OPA decimals (0.3)"
    ),
    "input_number_as_d": (
        'sprintf("%d") of a JSON number from the input: regorus prints "5000", '
        'OPA "%!d(float64=5000)"'
    ),
    "unicode_case": 'upper("straße"): regorus gives "STRASSE", OPA "STRAßE"',
}

_PROBE_MODULE = """package sluicegate.rules.probe

import rego.v1

label(name) := sprintf("probe.%s", [name])

verdicts contains {{"rule": "probe.{name}", "outcome": "allow", "message": {message}}} if {{
\t{body}
}}
"""


def _probe_pack(root: Path, name: str) -> Path:
    message, body = PROBES[name]
    target = root / name
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("__pycache__", "cases"))
    source = _PROBE_MODULE.format(name=name, message=message, body=body or "true")
    (target / "rego" / "probe.rego").write_text(source, encoding="utf-8")
    entry = target / "rego" / "verdicts.rego"
    entry.write_text(
        entry.read_text().rstrip() + " | data.sluicegate.rules.probe.verdicts\n", encoding="utf-8"
    )
    return target


def _probe_result(gate: Gate) -> Any:
    decision = gate.decide(PROPOSALS[0][1], AGENT)
    if decision.fail_closed is not None and decision.fail_closed.cause.value.startswith("engine"):
        return {"fails_closed": decision.fail_closed.cause.value}
    return [r.message for r in decision.reasons if r.rule.startswith("probe.")]


@pytest.fixture(scope="module")
def pushed_sidecar() -> Iterator[OpaProcess]:
    """One OPA for every probe: each probe's pack is pushed through OPA's policy and data APIs."""
    with OpaProcess() as sidecar:
        yield sidecar


@pytest.mark.parametrize("name", PROBES)
def test_probe(name: str, tmp_path: Path, pushed_sidecar: OpaProcess) -> None:
    rules = _probe_pack(tmp_path, name)
    pack = load_rule_pack(rules)
    results = {}
    for settings in (
        Settings(rules=rules),
        Settings(rules=rules, rego_backend="opa", opa_url=pushed_sidecar.url, opa_mode="push"),
    ):
        gate = build_gate(settings, pack)
        try:
            results[settings.rego_backend] = _probe_result(gate)
        finally:
            gate.close()
    embedded, opa = results["rego-embedded"], results["opa"]
    if name in KNOWN_DIFFERENCES:
        assert embedded != opa, f"{name} now agrees: drop it from KNOWN_DIFFERENCES and the docs"
    else:
        assert embedded == opa, f"probe {name}: rego-embedded {embedded!r}, opa {opa!r}"
