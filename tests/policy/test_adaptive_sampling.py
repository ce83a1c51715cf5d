"""Adaptive post-hoc rates: the author's review load, spent first where the verdicts cannot
rule out violations, within the author's bounds, and the author's rate until there is enough
evidence; sampling.yaml keeps
reading a plain number as a fixed rate; canaries.yaml is validated when the pack loads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from policy.estimates import lower_bound, upper_bound, wilson_bounds
from policy.pack_data import AdaptiveRate, AdaptiveSampling, Canaries, Sampling
from policy.proposal import Environment
from policy.sampling import Evidence, adaptive_rates

HOW = AdaptiveSampling(confidence=0.95, min_reviews=20)
BOUNDS = AdaptiveRate(rate=0.05, min=0.01, max=0.5)


def test_the_wilson_interval_holds_its_proportion_and_narrows_with_evidence() -> None:
    low, high = wilson_bounds(20, 100, 0.95)
    assert low < 0.2 < high
    assert wilson_bounds(200, 1000, 0.95)[1] - wilson_bounds(200, 1000, 0.95)[0] < high - low
    assert wilson_bounds(0, 0, 0.95) == (0.0, 1.0)
    assert lower_bound(0, 50, 0.95) == 0.0
    assert upper_bound(50, 50, 0.95) == 1.0


def _load(rates: dict[str, float], evidence: dict[str, Evidence]) -> float:
    return sum(rates[name] * seen.actions for name, seen in evidence.items())


def test_the_load_goes_first_where_the_violations_are_within_the_bounds() -> None:
    evidence = {
        "refund": Evidence(reviewed=50, violations=10, actions=1000.0),
        "invoice": Evidence(reviewed=50, violations=0, actions=1000.0),
        "email": Evidence(reviewed=50, violations=0, actions=1000.0),
    }
    rates = adaptive_rates(BOUNDS, HOW, evidence)
    assert rates["refund"] > rates["invoice"] == rates["email"] >= BOUNDS.min
    # all three start at the floor, saving 4 % of 3000; refunds get theirs back, and the other
    # 80 reviews as if refunds had the most actions their 50 verdicts allow (1000 plus 1.96
    # standard errors: 1000 / sqrt(50))
    most = 1000 * (1 + 1.96 / 50**0.5)
    assert rates["refund"] == pytest.approx(0.05 + 80 / most, abs=1e-4)
    assert _load(rates, evidence) <= 0.05 * 3000  # never more than the author's load


def test_the_ceiling_passes_the_rest_to_the_next_riskiest() -> None:
    evidence = {
        "refund": Evidence(reviewed=50, violations=10, actions=100.0),
        "invoice": Evidence(reviewed=50, violations=2, actions=1000.0),
        "email": Evidence(reviewed=50, violations=0, actions=1000.0),
    }
    rates = adaptive_rates(BOUNDS, HOW, evidence)
    assert rates["refund"] == BOUNDS.max
    assert rates["invoice"] > rates["email"] == BOUNDS.min
    assert _load(rates, evidence) <= 0.05 * 2100


def test_few_verdicts_or_one_type_keep_the_author_rate_and_fixed_rates_never_move() -> None:
    few = {"refund": Evidence(reviewed=5, violations=5, actions=100.0)}
    assert adaptive_rates(BOUNDS, HOW, few) == {"refund": 0.05}
    alone = {"refund": Evidence(reviewed=500, violations=100, actions=10_000.0)}
    assert adaptive_rates(BOUNDS, HOW, alone) == {"refund": 0.05}  # nowhere to take load from
    many = {
        "refund": Evidence(reviewed=50, violations=10, actions=1000.0),
        "email": Evidence(reviewed=50, violations=0, actions=1000.0),
    }
    fixed = AdaptiveRate(rate=0.05, min=0.01, max=0.5, adapt=False)
    assert adaptive_rates(fixed, HOW, many) == {"refund": 0.05, "email": 0.05}


def test_an_unreviewed_type_ranks_as_risky_as_its_silence_allows() -> None:
    evidence = {
        "refund": Evidence(reviewed=100, violations=0, actions=2000.0),
        "new": Evidence(reviewed=1, violations=0, actions=20.0),  # one verdict rules out little
    }
    rates = adaptive_rates(BOUNDS, HOW, evidence)
    assert rates["new"] == BOUNDS.max
    assert rates["refund"] < BOUNDS.rate


def test_sampling_yaml_reads_numbers_as_fixed_rates_and_mappings_as_adaptive() -> None:
    sampling = Sampling.model_validate(
        {
            "production": {"1": 0.05, "2": {"rate": 0.25, "min": 0.05, "max": 0.8}},
            "adaptive": {"window": "P14D", "min_reviews": 40},
        }
    )
    assert sampling.rate(Environment.PRODUCTION, 1) == 0.05
    assert sampling.rate(Environment.PRODUCTION, 2) == AdaptiveRate(rate=0.25, min=0.05, max=0.8)
    assert sampling.rate(Environment.SANDBOX, 1) is None
    assert sampling.adaptive.window.days == 14
    with pytest.raises(ValidationError, match="min <= rate <= max"):
        Sampling.model_validate({"production": {"1": {"rate": 0.9, "min": 0.01, "max": 0.5}}})


def test_canaries_are_checked_when_the_pack_loads() -> None:
    canary = {
        "id": "refund-to-unknown-account",
        "queue": "finance-approvers",
        "agent": "billing-bot",
        "expect": "reject",
        "why": "the account is not the customer's",
        "proposal": {"action": {"type": "payments.refund.issue", "environment": "production"}},
    }
    assert Canaries.model_validate({"canaries": [canary]}).of("refund-to-unknown-account")
    with pytest.raises(ValidationError, match="same id"):
        Canaries.model_validate({"canaries": [canary, canary]})
    with pytest.raises(ValidationError):
        Canaries.model_validate({"canaries": [canary | {"expect": "maybe"}]})
    with pytest.raises(ValidationError):
        Canaries.model_validate({"canaries": [canary | {"proposal": {"action": {}}}]})
