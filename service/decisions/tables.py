"""The tables decisions/ owns: decisions as answered, and what they spent of budgets.

Other domains read them through the typed handles at the end of this module, or through
decisions/'s functions; only decisions/ writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class DecisionRow(SQLModel, table=True):
    """A decision as answered, with what identifies a retried request."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("principal_id", "idempotency_key"),)

    decision_id: str = Field(primary_key=True)
    principal_id: str = Field(index=True)
    idempotency_key: str | None = None
    request_digest: str
    action_type: str = Field(index=True)
    outcome: str
    risk_tier: int
    body: str  # the decision JSON exactly as answered
    created_at: datetime = Field(sa_column=utc_column())
    # What the agent reported after acting: executed, failed, verified or rolled_back.
    lifecycle_status: str | None = None
    lifecycle_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    artifact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    lifecycle_version: int = 0
    # How long the agent computed for the action, as its outcome report says.
    agent_duration_ms: int | None = None
    # The permit of a decision that let the agent act: its claims and the signing key's id,
    # never the token (a replay signs them again: permits/signer.py).
    permit_claims: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    permit_kid: str | None = None


class BudgetEntryRow(SQLModel, table=True):
    """What one action spent of one budget (policy/budgets.py): counted when the agent was let
    act, in the transaction that recorded it; `released_at` once it failed or was rolled back."""

    __tablename__ = "budget_entries"
    __table_args__ = (
        Index("ix_budget_entries_agent", "budget", "principal_id", "counted_at"),
        Index("ix_budget_entries_owner", "budget", "owner_key", "counted_at"),
    )

    id: str = Field(primary_key=True)
    budget: str
    unit: str  # a currency, or "actions"
    principal_id: str  # the agent
    owner_key: str  # the agent's accountable owner, or the agent itself when it has none
    amount: float
    decision_id: str = Field(index=True)
    counted_at: datetime = Field(sa_column=utc_column())
    released_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


DECISIONS = table_of(DecisionRow)
BUDGET_ENTRIES = table_of(BudgetEntryRow)
