"""Deterministic sampling: the decision id alone decides whether a sample is selected."""

from __future__ import annotations

import hashlib

from policy.pack_data import PackData
from policy.proposal import Environment

_SCALE = float(2**64)


def sample_rate(data: PackData, environment: Environment, risk_tier: int) -> float:
    """The audit rate for a tier in an environment; a tier without a rate is always audited."""
    return data.sampling.get(environment, {}).get(risk_tier, 1.0)


def is_selected(decision_id: str, rate: float) -> bool:
    """Map the id's hash to [0, 1) and compare with the rate, so a replay gives the same answer."""
    digest = hashlib.sha256(decision_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < rate
