"""What the client raises when the gate says no, says wait, or cannot answer."""

from __future__ import annotations

from policy.decision import Decision


class GateError(Exception):
    """The gate could not be asked or answered with an error; the action must not run."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ActionDenied(Exception):
    """The gate denied the action."""

    def __init__(self, decision: Decision) -> None:
        reasons = "; ".join(f"{r.rule}: {r.message}" for r in decision.reasons)
        super().__init__(f"denied ({decision.decision_id}): {reasons}")
        self.decision = decision


class AwaitingReview(Exception):
    """The action waits for a human in a named queue; retry it with the decision id later."""

    def __init__(self, decision: Decision) -> None:
        review = decision.review
        where = f"queue {review.queue}, due {review.due_at.isoformat()}" if review else "review"
        super().__init__(f"routed to a human ({decision.decision_id}): {where}")
        self.decision = decision
        self.decision_id = decision.decision_id
