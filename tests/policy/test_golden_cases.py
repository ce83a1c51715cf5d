"""Every golden case of the default pack, decided by the embedded engines."""

from __future__ import annotations

import pytest

from policy.context import Agent
from policy.gate import Gate
from policy.golden_cases import GoldenCase, load_cases, mismatches
from tests.fixtures import RULES

CASES = load_cases(RULES / "cases")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_case(case: GoldenCase, gate: Gate) -> None:
    decision = gate.decide(
        case.proposal, Agent(id="golden", name="golden", scopes=tuple(case.scopes))
    )
    assert mismatches(case, decision) == []


def test_there_are_enough_cases_to_matter() -> None:
    assert len(CASES) >= 20
