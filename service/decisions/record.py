"""A decision on its way to the store, and what the store answers for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policy.budgets import Charge
from policy.decision import Decision


@dataclass(frozen=True)
class BudgetClaim:
    """What a decision that lets the agent act would spend, and how to record it instead
    when a budget says no: `over(charge, spent)` is `Decider.over_budget` bound to the
    request (it gives the record with that budget's verdict)."""

    charges: tuple[Charge, ...]
    over: Callable[[Charge, float], DecisionRecord]


@dataclass(frozen=True)
class DecisionRecord:
    """A decision waiting to be recorded, with the event that records it."""

    principal_id: str
    action_type: str
    idempotency_key: str | None
    request_digest: str
    decision: Decision
    event: dict[str, Any]
    recorded_at: datetime
    review_task: dict[str, Any] | None = None  # the review row a routed or sampled action opens
    # The budgets a decision that lets the agent act spends, checked when it is written.
    budget: BudgetClaim | None = None


@dataclass(frozen=True)
class Recorded:
    """The decision as committed (with its audit reference), or the earlier one it replays."""

    decision_id: str
    body: str  # the decision JSON exactly as answered
    replayed: bool
