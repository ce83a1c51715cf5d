"""Sampling: at what rate a sampled action is picked for a post-hoc review, and whether this
one is. The decision id alone decides the pick, given the rate, so a replay with the recorded
rate picks the same. Rates are the author's (sampling.yaml), or, for rates the author made
adaptive, what the evidence of post-hoc verdicts says within the author's bounds
(`adaptive_rate`, kept current by service/sampling/)."""

from __future__ import annotations

import hashlib
from typing import Protocol

from policy.estimates import upper_bound
from policy.pack_data import AdaptiveRate, AdaptiveSampling, PackData
from policy.proposal import Environment

_SCALE = float(2**64)


def sample_rate(data: PackData, environment: Environment, risk_tier: int) -> float:
    """The author's audit rate for a tier in an environment (an adaptive one's starting rate);
    a tier without a rate is always audited."""
    found = data.sampling.rate(environment, risk_tier)
    if found is None:
        return 1.0
    return found if isinstance(found, float) else found.rate


class RateSource(Protocol):
    """The post-hoc rate of an action type at a tier in an environment, now."""

    def __call__(self, action_type: str, environment: Environment, risk_tier: int) -> float:
        """The rate (0 to 1)."""


def author_rates(data: PackData) -> RateSource:
    """The author's rates, for every action type alike (adaptive ones at their start)."""

    def rate(action_type: str, environment: Environment, risk_tier: int) -> float:
        return sample_rate(data, environment, risk_tier)

    return rate


def adaptive_rate(
    bounds: AdaptiveRate, how: AdaptiveSampling, violations: int, reviewed: int
) -> float:
    """An adaptive rate from the window's post-hoc verdicts of one action type: `gain` times
    the highest violation rate the verdicts cannot rule out (the Wilson upper bound at
    `confidence`), within the author's `min` and `max`; the author's `rate` while there are
    fewer than `min_reviews` verdicts."""
    if not bounds.adapt or reviewed < how.min_reviews:
        return bounds.rate
    estimate = how.gain * upper_bound(violations, reviewed, how.confidence)
    return round(min(bounds.max, max(bounds.min, estimate)), 4)


def is_selected(decision_id: str, rate: float) -> bool:
    """Map the id's hash to [0, 1) and compare with the rate, so a replay gives the same answer."""
    digest = hashlib.sha256(decision_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < rate
