"""Sampling: at what rate a sampled action is picked for a post-hoc review, and whether this
one is. The decision id alone decides the pick, given the rate, so a replay with the recorded
rate picks the same. Rates are the author's (sampling.yaml), or, for rates the author made
adaptive, where the evidence of post-hoc verdicts says to spend the author's review load,
within the author's bounds (`adaptive_rates`, kept current by service/sampling/)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
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


@dataclass(frozen=True)
class Evidence:
    """One action type's post-hoc verdicts in the window, and how many sampled actions they
    stand for (each review counts 1 / the rate it was picked at: a Horvitz-Thompson estimate
    of the type's sampled actions)."""

    reviewed: int = 0
    violations: int = 0
    actions: float = 0.0

    def most_actions(self, z: float) -> float:
        """The most sampled actions the verdicts allow, `z` standard errors above the
        estimate (the count of reviews is about Poisson: its relative error is 1/sqrt(n))."""
        return self.actions * (1 + z / math.sqrt(max(self.reviewed, 1)))


def adaptive_rates(
    bounds: AdaptiveRate, how: AdaptiveSampling, evidence: Mapping[str, Evidence]
) -> dict[str, float]:
    """The rates of the action types of one adaptive environment and tier, from the window's
    evidence. The author's rate sets the review load: `rate` times the types' sampled
    actions. The evidence decides where it goes: every type starts at `min`, and the reviews
    that saves go back to the types in order of the highest violation rate their verdicts
    cannot rule out (the Wilson upper bound at `confidence`; few verdicts leave it high),
    first up to the author's rate, then up to `max`.

    A rate above the author's costs as if the type had the most actions its verdicts allow
    at `confidence`, so that the load does not exceed the author's: a type ranked high for
    having few verdicts may well have more actions than they suggest. One type alone keeps
    the author's rate; so does every type while there are fewer than `min_reviews` verdicts.

    Reviewing where violations are, at the author's load, is what lets fewer violations go
    unreviewed than one fixed rate would (bench/sampling_simulation.py)."""
    if not bounds.adapt or sum(e.reviewed for e in evidence.values()) < how.min_reviews:
        return dict.fromkeys(evidence, bounds.rate)
    z = NormalDist().inv_cdf(0.5 + how.confidence / 2)
    below, above = bounds.rate - bounds.min, bounds.max - bounds.rate
    saved = sum(below * found.actions for found in evidence.values())
    rates = dict.fromkeys(evidence, bounds.min)

    def risk(action_type: str) -> tuple[float, str]:
        found = evidence[action_type]
        return (-upper_bound(found.violations, found.reviewed, how.confidence), action_type)

    for action_type in sorted(evidence, key=risk):
        found = evidence[action_type]
        if found.actions * below <= saved or found.actions <= 0:
            back = below
        else:
            back = max(0.0, saved) / found.actions
        rates[action_type] += back
        saved -= back * found.actions
        if back < below or saved <= 0:
            break
        more = min(above, saved / found.most_actions(z))
        rates[action_type] += more
        saved -= more * found.most_actions(z)
    return {action_type: round(rate, 4) for action_type, rate in rates.items()}


def is_selected(decision_id: str, rate: float) -> bool:
    """Map the id's hash to [0, 1) and compare with the rate, so a replay gives the same answer."""
    digest = hashlib.sha256(decision_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < rate
