"""A decision on its way to the store, and what the store answers for it.

The stored decision (`Recorded.body`) never holds its permit: the agent's answer is the
body with the permit put in (`Recorded.answer`), and a replay gets the permit signed again
from its stored claims (`permits/signer.py`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policy.budgets import Charge
from policy.decision import Decision
from service.permits.signer import IssuedPermit, StoredPermit

# How every stored decision body ends: the permit is the last field of `Decision`, and the
# body is stored without it.
_NO_PERMIT = '"permit":null}'


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
    # The permit of a decision that lets the agent act (`decision.permit` stays None).
    permit: IssuedPermit | None = None


@dataclass(frozen=True)
class Recorded:
    """The decision as committed (with its audit reference), or the earlier one it replays,
    with its permit: the token when it was just issued, or what is stored of it."""

    decision_id: str
    body: str  # the decision JSON as stored: the answer without its permit
    replayed: bool
    permit: str | None = None
    stored_permit: StoredPermit | None = None

    @property
    def answer(self) -> str:
        """The JSON the agent that proposed it is answered: the body with its permit."""
        return with_permit(self.body, self.permit)


def with_permit(body: str, permit: str | None) -> str:
    """A stored decision body with its permit put back in (the body unchanged without one)."""
    if permit is None:
        return body
    if not body.endswith(_NO_PERMIT):
        raise ValueError("a stored decision body ends with its empty permit")
    return body[: -len("null}")] + json.dumps(permit) + "}"
