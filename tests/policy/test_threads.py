"""One interpreter per thread: many threads deciding at once get the single-threaded answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from policy.context import Agent
from policy.gate import Gate
from policy.golden_cases import load_cases
from tests.fixtures import RULES


def test_concurrent_decisions_match_sequential_ones(gate: Gate) -> None:
    cases = load_cases(RULES / "cases")
    agents = [Agent(id="t", name="t", scopes=tuple(c.scopes)) for c in cases]

    def outcome(i: int) -> tuple[str, int, tuple[str, ...]]:
        d = gate.decide(cases[i % len(cases)].proposal, agents[i % len(cases)])
        return d.outcome.value, d.risk_tier, tuple(r.rule for r in d.reasons)

    expected = [outcome(i) for i in range(len(cases))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(outcome, range(len(cases) * 20)))
    assert got == [expected[i % len(cases)] for i in range(len(cases) * 20)]
