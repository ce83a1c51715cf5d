"""A decision on its way to the store, and what the store answers for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from policy.decision import Decision

if TYPE_CHECKING:
    from service.decisions.budgets import BudgetClaim


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
