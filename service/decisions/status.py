"""The one authoritative status of an action: from its decision, its review, its outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from policy.decision import Decision, ReviewRef
from policy.outcome import Outcome
from service.reviews.models import Review, ReviewState


class ActionStatus(StrEnum):
    """The one authoritative status of an action (the part the gate and reviews decide)."""

    ALLOWED = "allowed"
    SAMPLED = "sampled"
    PENDING_REVIEW = "pending_review"
    DENIED = "denied"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"
    FAILED = "failed"
    VERIFIED = "verified"  # executed, and the artifact meets the action type's definition of done
    ROLLED_BACK = "rolled_back"
    WITHDRAWN = "withdrawn"  # the agent took a routed proposal back before the review ended


# An action in one of these gives back what it spent of its budgets (once its permit expired).
GIVES_BACK = frozenset({ActionStatus.FAILED, ActionStatus.ROLLED_BACK})


class ReviewProgress(ReviewRef):
    """The decision's review with where it stands now."""

    state: ReviewState
    approvals: int = 0
    resolved_at: datetime | None = None
    note: str | None = None
    # Why it was rejected (an agent revising it learns whether the spec was unclear).
    cause: str | None = None
    used_at: datetime | None = None


class DecisionStatus(Decision):
    """A recorded decision with the action's status now; what `GET /v1/decisions/{id}` answers."""

    status: ActionStatus
    review: ReviewProgress | None = None


_BY_OUTCOME = {
    Outcome.ALLOW: ActionStatus.ALLOWED,
    Outcome.SAMPLE: ActionStatus.SAMPLED,
    Outcome.ROUTE_TO_HUMAN: ActionStatus.PENDING_REVIEW,
    Outcome.DENY: ActionStatus.DENIED,
}
_BY_REVIEW = {
    ReviewState.APPROVED: ActionStatus.APPROVED,
    ReviewState.REJECTED: ActionStatus.REJECTED,
    ReviewState.EXPIRED: ActionStatus.EXPIRED,
    ReviewState.WITHDRAWN: ActionStatus.WITHDRAWN,
}


def status_of(outcome: str, review_state: str | None, lifecycle: str | None) -> ActionStatus:
    """The one status: the reported outcome once there is one; else the blocking review's
    resolution; else what the gate answered."""
    if lifecycle is not None:
        return ActionStatus(lifecycle)
    by_review = _BY_REVIEW.get(ReviewState(review_state)) if review_state else None
    return by_review or _BY_OUTCOME[Outcome(outcome)]


def decision_status(
    decision: Decision, review: Review | None, lifecycle: str | None = None
) -> DecisionStatus:
    """The decision as answered, with the action's status (the reported outcome, once there is
    one; else the review's; else the gate's) and the blocking review's progress."""
    progress = None
    if decision.review is not None and review is not None:
        progress = ReviewProgress(
            id=review.id,
            queue=review.queue,  # an escalation moves the review and resets its time box
            due_at=review.due_at,
            on_timeout=decision.review.on_timeout
            if review.on_timeout == "none"
            else review.on_timeout,
            approvals_required=review.approvals_required,
            state=review.state,
            approvals=len(review.approvals),
            resolved_at=review.resolved_at,
            note=review.note,
            cause=review.cause.value if review.cause else None,
            used_at=review.used_at,
        )
    review_state = review.state.value if decision.review is not None and review else None
    status = status_of(decision.outcome.value, review_state, lifecycle)
    fields = decision.model_dump(exclude={"review"})
    return DecisionStatus(**fields, status=status, review=progress)
