"""One interpreter per thread: many threads deciding at once get the single-threaded answers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from policy.context import Agent
from policy.gate import Gate
from policy.golden_cases import load_cases
from policy.rule_pack import RulePack
from service.engines import build_gate
from tests.fixtures import RULES, RegoBackend


@pytest.fixture
def patient_gate(pack: RulePack, rego_backend: RegoBackend) -> Iterator[Gate]:
    """A generous time box: this is about threads, and a busy CI machine must not turn a slow
    evaluation into a (correct) fail-closed answer that differs from the sequential one."""
    built = build_gate(rego_backend.settings(rules=RULES, decision_budget_ms=10_000), pack)
    yield built
    built.close()


def test_concurrent_decisions_match_sequential_ones(patient_gate: Gate) -> None:
    gate = patient_gate
    cases = load_cases(RULES / "cases")
    agents = [Agent(id="t", name="t", scopes=tuple(c.scopes)) for c in cases]

    def outcome(i: int) -> tuple[str, int, tuple[str, ...]]:
        d = gate.decide(cases[i % len(cases)].proposal, agents[i % len(cases)])
        return d.outcome.value, d.risk_tier, tuple(r.rule for r in d.reasons)

    expected = [outcome(i) for i in range(len(cases))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(outcome, range(len(cases) * 20)))
    assert got == [expected[i % len(cases)] for i in range(len(cases) * 20)]
