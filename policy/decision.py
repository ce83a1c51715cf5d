"""The decision the gate returns (wire contract v1)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from policy.fail_closed import FailClosed
from policy.outcome import Outcome
from policy.pack_data import Reversibility, TimeoutAction


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class Reason(_Value):
    """One rule's verdict; every verdict is kept, not only the one that decided."""

    rule: str
    outcome: Outcome
    message: str


class ReviewRef(_Value):
    """The named queue a routed action waits in, with its time box."""

    id: str
    queue: str
    due_at: datetime
    on_timeout: TimeoutAction
    approvals_required: int = 1  # distinct approvers needed (four eyes twice for the largest)


class Sample(_Value):
    """Whether a sampled action was picked for a post-hoc audit, and at what rate."""

    rate: float
    selected: bool


class PolicyRef(_Value):
    """Which rule pack revision and which engines decided."""

    revision: str
    engine: str


class AuditRef(_Value):
    """Where the decision sits in the audit chain."""

    seq: int
    hash: str


class Decision(_Value):
    """The gate's answer to a proposal."""

    decision_id: str
    outcome: Outcome
    risk_tier: int
    reversibility: Reversibility
    reasons: list[Reason]
    review: ReviewRef | None = None
    sample: Sample | None = None
    fail_closed: FailClosed | None = None
    policy: PolicyRef
    audit: AuditRef | None = None
    decided_at: datetime
    # A signed, single-use permit for the target system, on answers that let the agent act.
    permit: str | None = None
