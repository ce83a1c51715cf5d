"""What the API and the pages show of a review and of an action's status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from policy.decision import Decision
from service.errors import ErrorDetail


class ReviewState(StrEnum):
    """Where a review stands; `claimed` is `pending` with a live lease."""

    PENDING = "pending"
    CLAIMED = "claimed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REVIEWED = "reviewed"  # a post-hoc review with its verdict
    WITHDRAWN = "withdrawn"  # the proposing agent took the proposal back before anyone decided

    @property
    def resolved(self) -> bool:
        """Whether nothing more will happen to the review."""
        return self not in (ReviewState.PENDING, ReviewState.CLAIMED)


class ReviewKind(StrEnum):
    """Blocking (the agent waits) or post-hoc (the agent acted; someone checks)."""

    BLOCKING = "blocking"
    POST_HOC = "post_hoc"


class PostHocVerdict(StrEnum):
    """A post-hoc reviewer's finding."""

    OK = "ok"
    SHOULD_NOT_HAVE_HAPPENED = "should_not_have_happened"


class IncidentCause(StrEnum):
    """Why an action was rejected, or should not have happened: the spec the agent worked
    from was ambiguous, the model erred, it lacked context, or the rules had a gap."""

    AMBIGUOUS_SPEC = "ambiguous_spec"
    MODEL_ERROR = "model_error"
    MISSING_CONTEXT = "missing_context"
    POLICY_GAP = "policy_gap"
    OTHER = "other"

    @property
    def label(self) -> str:
        """What a reviewer picks from (the review page, the Slack modal)."""
        return _CAUSE_LABELS[self]

    @classmethod
    def named(cls, value: object) -> IncidentCause | None:
        """The cause a form or a Slack modal named; None for anything else."""
        return cls(str(value)) if value in {cause.value for cause in cls} else None


_CAUSE_LABELS = {
    IncidentCause.AMBIGUOUS_SPEC: "The spec or instructions were ambiguous",
    IncidentCause.MODEL_ERROR: "The agent's model made a mistake",
    IncidentCause.MISSING_CONTEXT: "The agent lacked context it needed",
    IncidentCause.POLICY_GAP: "The rules should have caught it",
    IncidentCause.OTHER: "Something else",
}


class Approval(BaseModel):
    """One reviewer's approval."""

    principal_id: str
    name: str
    at: datetime
    note: str | None = None


class Review(BaseModel):
    """A review task as reviewers and auditors see it."""

    id: str
    decision_id: str
    kind: ReviewKind
    queue: str
    state: ReviewState
    agent_id: str
    action_type: str
    risk_tier: int
    proposal_digest: str
    policy_revision: str
    approvals_required: int
    approvals: list[Approval]
    due_at: datetime
    on_timeout: str
    escalations: int
    claimed_by: str | None
    lease_until: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    verdict: PostHocVerdict | None
    note: str | None
    # Why it was rejected, or should not have happened (older records: none, counted other).
    cause: IncidentCause | None = None
    used_at: datetime | None
    created_at: datetime
    # A known-answer check: known to the gate alone, never serialized (API, pages, Slack).
    canary: bool = Field(default=False, exclude=True)


class ReviewPacket(Review):
    """A review with what the reviewer needs to decide: the proposal and the rules' reasons."""

    proposal: dict[str, Any]
    decision: Decision


class BatchResult(BaseModel):
    """One review of a batch approval: approved, or refused and why (as a single step would
    have been)."""

    review_id: str
    ok: bool
    error: ErrorDetail | None = None


class ApprovalUse(BaseModel):
    """The agent used its approval: it may act now, once, on exactly the approved proposal."""

    decision_id: str
    review_id: str
    proposal_digest: str
    policy_revision: str
    used_at: datetime
    # A signed, single-use permit for the target system (docs/permits.md).
    permit: str | None = None
