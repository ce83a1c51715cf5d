"""The tables: principals (API keys), decisions and the audit event chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class PrincipalRow(SQLModel, table=True):
    """Someone who calls the gate: an agent, reviewer, author, auditor or admin."""

    __tablename__ = "principals"

    id: str = Field(primary_key=True)
    name: str
    role: str
    key_id: str = Field(unique=True, index=True)  # the public part of the key, for lookup
    key_hash: str  # sha256 of the whole key; the key itself is never stored
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    revoked_at: datetime | None = None


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
    created_at: datetime


class AuditEventRow(SQLModel, table=True):
    """One link of the append-only chain: hash = sha256(prev_hash ‖ canonical event)."""

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True)
    event_id: str = Field(unique=True)
    kind: str
    decision_id: str | None = Field(default=None, index=True)
    recorded_at: datetime
    prev_hash: str
    hash: str
    event: str  # RFC 8785 canonical JSON of the event
