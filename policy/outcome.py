"""Outcomes of a decision and their severity order."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Outcome(StrEnum):
    """What the gate tells the agent; members are declared from least to most severe."""

    ALLOW = "allow"
    SAMPLE = "sample"
    ROUTE_TO_HUMAN = "route_to_human"
    DENY = "deny"

    @property
    def severity(self) -> int:
        """Position in the order allow < sample < route_to_human < deny."""
        return _SEVERITY[self]


_SEVERITY = {outcome: rank for rank, outcome in enumerate(Outcome)}


def most_severe(outcomes: Iterable[Outcome]) -> Outcome | None:
    """The most severe of the outcomes, or None when there are none."""
    return max(outcomes, key=lambda outcome: outcome.severity, default=None)
