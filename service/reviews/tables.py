"""The table reviews/ owns: blocking reviews, and post-hoc ones of sampled actions.

Other domains read them through the typed handles at the end of this module, or through
reviews/'s functions; only reviews/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class ReviewTaskRow(SQLModel, table=True):
    """A review: blocking (route_to_human) or post-hoc (a sampled action picked for audit).

    Every transition is a compare-and-set on `version` inside a write transaction that also
    appends its audit event, so concurrent reviewers and several gateway processes cannot
    both win, and no step happens without its record.
    """

    __tablename__ = "review_tasks"

    id: str = Field(primary_key=True)
    decision_id: str = Field(index=True)
    kind: str  # blocking | post_hoc
    queue: str = Field(index=True)
    state: str = Field(index=True)  # open | approved | rejected | expired | reviewed
    agent_id: str  # the principal whose action this is
    action_type: str
    risk_tier: int
    proposal_digest: str
    policy_revision: str
    approvals_required: int
    approvals: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    due_at: datetime = Field(sa_column=utc_column(index=True))
    on_timeout: str
    escalations: int = 0
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    resolved_by: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    verdict: str | None = None  # post-hoc: ok | should_not_have_happened
    note: str | None = None
    # Why it was rejected or should not have happened (reviews/models.py IncidentCause).
    cause: str | None = None
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # A known-answer check (service/canaries/): which canary of the pack; None for real work.
    # Nothing a reviewer or an agent reads shows it.
    canary_id: str | None = Field(default=None, index=True)
    version: int = 0
    created_at: datetime = Field(sa_column=utc_column())


REVIEW_TASKS = table_of(ReviewTaskRow)
