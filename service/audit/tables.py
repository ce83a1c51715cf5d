"""The tables audit/ owns: the chain, its rules index and its signed checkpoints.

Other domains read them through the typed handles at the end of this module, or through
audit/'s functions; only audit/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class AuditEventRow(SQLModel, table=True):
    """One link of the append-only chain: hash = sha256(prev_hash ‖ canonical event)."""

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True)
    event_id: str = Field(unique=True)
    kind: str = Field(index=True)
    decision_id: str | None = Field(default=None, index=True)
    recorded_at: datetime = Field(sa_column=utc_column(index=True))
    prev_hash: str
    hash: str
    event: str  # RFC 8785 canonical JSON of the event
    # Copied out of the (masked) event so auditors' queries are indexed (service/audit/index.py).
    agent_id: str | None = Field(default=None, index=True)
    action_type: str | None = Field(default=None, index=True)
    outcome: str | None = Field(default=None, index=True)
    risk_tier: int | None = Field(default=None, index=True)
    policy_revision: str | None = Field(default=None, index=True)
    work_item_id: str | None = Field(default=None, index=True)
    queue: str | None = Field(default=None, index=True)


class AuditRuleRow(SQLModel, table=True):
    """Which rules gave a verdict in a decision event: the index behind `?rule=`."""

    __tablename__ = "audit_event_rules"

    rule: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)


class AuditCheckpointRow(SQLModel, table=True):
    """A signed statement of the chain head: "at `seq` the chain's hash was `hash`".

    Kept apart from the chain, so that cutting or rewriting the chain's tail contradicts a
    signature the operator cannot forge without the signing key."""

    __tablename__ = "audit_checkpoints"

    seq: int = Field(primary_key=True)
    hash: str
    signed_at: datetime = Field(sa_column=utc_column())
    key_id: str
    signature: str  # Ed25519 over the RFC 8785 JSON of {seq, hash, signed_at, key_id}, base64


AUDIT_EVENTS = table_of(AuditEventRow)
AUDIT_RULES = table_of(AuditRuleRow)
AUDIT_CHECKPOINTS = table_of(AuditCheckpointRow)
