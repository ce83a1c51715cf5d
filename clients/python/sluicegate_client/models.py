"""The gate's answers as the client reads them: the wire contract v1, kept by the client.

The client has its own copy of the fields it reads, so an agent installs no server code;
unknown fields are kept (`extra="allow"`), so a newer gateway does not break an older client.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Outcome(StrEnum):
    """What the gate answered."""

    ALLOW = "allow"
    SAMPLE = "sample"
    ROUTE_TO_HUMAN = "route_to_human"
    DENY = "deny"


class ActionStatus(StrEnum):
    """Where the action stands now (`GET /v1/decisions/{id}`)."""

    ALLOWED = "allowed"
    SAMPLED = "sampled"
    PENDING_REVIEW = "pending_review"
    DENIED = "denied"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"
    FAILED = "failed"
    VERIFIED = "verified"
    ROLLED_BACK = "rolled_back"
    WITHDRAWN = "withdrawn"


class Reason(_Wire):
    """One rule's verdict."""

    rule: str
    outcome: Outcome
    message: str


class Review(_Wire):
    """The human review a routed action waits for; with its progress when read back."""

    id: str
    queue: str
    due_at: datetime
    on_timeout: str
    state: str | None = None
    note: str | None = None
    cause: str | None = None  # why it was rejected: ambiguous_spec, model_error, ...


class Decision(_Wire):
    """The gate's answer to a proposal."""

    decision_id: str
    outcome: Outcome
    risk_tier: int
    reasons: list[Reason]
    review: Review | None = None
    fail_closed: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None
    # On allow and sample: the signed permit to hand to the target system.
    permit: str | None = None


class DecisionStatus(Decision):
    """A decision with the action's status now."""

    status: ActionStatus


class ApprovalUse(_Wire):
    """The approval was used: the agent may act now, once, on exactly the approved proposal."""

    decision_id: str
    review_id: str
    used_at: datetime
    # The signed permit to hand to the target system.
    permit: str | None = None


class OutcomeRecorded(_Wire):
    """The action's status after the agent reported what it did."""

    decision_id: str
    status: ActionStatus
    missing_for_done: list[str] = []
