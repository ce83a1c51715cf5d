"""Estimates from few observations, stated once: the Wilson score interval of a proportion.

Adaptive sampling takes the interval's upper bound of a violation rate (the rate the
evidence cannot rule out); canary scoring takes the lower bound of a reviewer's error rate
(the rate the evidence shows at least). Both are closed-form, need no prior, and are
conservative with few observations; `statistics.NormalDist` gives the normal quantile."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_bounds(hits: int, trials: int, confidence: float) -> tuple[float, float]:
    """The two-sided Wilson score interval of `hits` in `trials` at `confidence`; (0, 1)
    with no trials."""
    if trials <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = hits / trials
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    centre = share + z * z / (2 * trials)
    scale = 1 + z * z / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def upper_bound(hits: int, trials: int, confidence: float) -> float:
    """The highest rate `hits` in `trials` cannot rule out, at `confidence`."""
    return wilson_bounds(hits, trials, confidence)[1]


def lower_bound(hits: int, trials: int, confidence: float) -> float:
    """The lowest rate `hits` in `trials` shows, at `confidence`."""
    return wilson_bounds(hits, trials, confidence)[0]
