"""What the client raises when the gate says no, says wait, or cannot answer."""

from __future__ import annotations

from typing import Literal

from sluicegate_client.models import ActionStatus, Decision, DecisionStatus

Refusal = Literal["denied", "rejected", "expired", "withdrawn"]


class GateError(Exception):
    """The gate could not be asked or answered with an error; the action must not run."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        # Seconds the gate asked the client to wait before trying again (`Retry-After`).
        self.retry_after = retry_after


class ActionDenied(Exception):
    """The action must not run: the rules denied it, or its review was rejected or expired.

    `how` says which; `note` carries the reviewer's note of a rejection."""

    def __init__(self, decision: Decision) -> None:
        status = decision.status if isinstance(decision, DecisionStatus) else None
        review = decision.review
        self.decision = decision
        self.note = review.note if review is not None else None
        self.how: Refusal
        if status is ActionStatus.REJECTED:
            self.how = "rejected"
            detail = f"the reviewer's note: {self.note}" if self.note else "no note"
        elif status is ActionStatus.WITHDRAWN:
            self.how = "withdrawn"
            detail = "the agent took the proposal back before the review ended"
        elif status is ActionStatus.EXPIRED:
            self.how = "expired"
            queue = review.queue if review is not None else "its queue"
            detail = f"nobody in {queue} decided within the time box"
        else:
            self.how = "denied"
            detail = "; ".join(f"{r.rule}: {r.message}" for r in decision.reasons)
        super().__init__(f"{self.how} ({decision.decision_id}): {detail}")


class AwaitingReview(Exception):
    """The action waits for a human in a named queue; retry it with the decision id later."""

    def __init__(self, decision: Decision) -> None:
        review = decision.review
        where = f"queue {review.queue}, due {review.due_at.isoformat()}" if review else "review"
        super().__init__(f"routed to a human ({decision.decision_id}): {where}")
        self.decision = decision
        self.decision_id = decision.decision_id
