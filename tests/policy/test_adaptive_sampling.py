"""Adaptive post-hoc rates: the Wilson bound of the violation rate times the gain, within the
author's bounds, and the author's rate until there is enough evidence; sampling.yaml keeps
reading a plain number as a fixed rate; canaries.yaml is validated when the pack loads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from policy.estimates import lower_bound, upper_bound, wilson_bounds
from policy.pack_data import AdaptiveRate, AdaptiveSampling, Canaries, Sampling
from policy.proposal import Environment
from policy.sampling import adaptive_rate

HOW = AdaptiveSampling(confidence=0.95, gain=2.0, min_reviews=20)
BOUNDS = AdaptiveRate(rate=0.05, min=0.01, max=0.5)


def test_the_wilson_interval_holds_its_proportion_and_narrows_with_evidence() -> None:
    low, high = wilson_bounds(20, 100, 0.95)
    assert low < 0.2 < high
    assert wilson_bounds(200, 1000, 0.95)[1] - wilson_bounds(200, 1000, 0.95)[0] < high - low
    assert wilson_bounds(0, 0, 0.95) == (0.0, 1.0)
    assert lower_bound(0, 50, 0.95) == 0.0
    assert upper_bound(50, 50, 0.95) == 1.0


def test_an_adaptive_rate_follows_the_violations_within_its_bounds() -> None:
    assert adaptive_rate(BOUNDS, HOW, violations=0, reviewed=10) == 0.05  # too little evidence
    clean = adaptive_rate(BOUNDS, HOW, violations=0, reviewed=400)
    assert clean == 0.019  # twice the bound of 0 in 400, above the floor of 0.01
    assert adaptive_rate(BOUNDS, HOW, violations=0, reviewed=100_000) == 0.01  # the floor
    assert adaptive_rate(BOUNDS, HOW, violations=40, reviewed=200) == 0.5  # the ceiling
    assert 0.05 < adaptive_rate(BOUNDS, HOW, violations=4, reviewed=100) < 0.5
    fixed = AdaptiveRate(rate=0.05, min=0.01, max=0.5, adapt=False)
    assert adaptive_rate(fixed, HOW, violations=40, reviewed=200) == 0.05


def test_sampling_yaml_reads_numbers_as_fixed_rates_and_mappings_as_adaptive() -> None:
    sampling = Sampling.model_validate(
        {
            "production": {"1": 0.05, "2": {"rate": 0.25, "min": 0.05, "max": 0.8}},
            "adaptive": {"window": "P14D", "gain": 3},
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
