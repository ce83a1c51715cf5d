"""The tables: principals and their API keys, decisions, the audit chain, reviews, webhooks,
UI sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.store.utc import utc_column


class PrincipalRow(SQLModel, table=True):
    """Someone who calls the gate: a person (reviewer, author, auditor, admin) or an agent.

    Keys belong to a principal; four eyes, approvals, claims and audit events compare
    principals, so a person holding two keys (as during a rotation) is still one person."""

    __tablename__ = "principals"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True)
    kind: str  # person | agent
    # An agent's accountable owner (a principal id): four eyes keeps them from approving it.
    owner_id: str | None = None
    created_at: datetime = Field(sa_column=utc_column())
    # The Slack user who acts as this person in Slack (`sluicegate principals link`).
    slack_user_id: str | None = Field(default=None, unique=True, index=True)


class ApiKeyRow(SQLModel, table=True):
    """One API key of a principal, with the role and scopes it grants."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True)  # the public part of the key (`sg_<id>_<secret>`)
    principal_id: str = Field(index=True)
    role: str
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    key_hash: str  # sha256 of the whole key; the key itself is never stored
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


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
    version: int = 0
    created_at: datetime = Field(sa_column=utc_column())


class WebhookRow(SQLModel, table=True):
    """Where to tell an agent that a review resolved: for all its decisions, or for one."""

    __tablename__ = "webhooks"

    id: str = Field(primary_key=True)
    agent_id: str = Field(index=True)
    decision_id: str | None = Field(default=None, index=True)  # None: every decision of the agent
    url: str
    secret: str  # the signing secret (whsec_…); needed in clear to sign, never logged
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WebhookDeliveryRow(SQLModel, table=True):
    """One message to one webhook, with every attempt's result; retried until it lands or ends."""

    __tablename__ = "webhook_deliveries"

    id: str = Field(primary_key=True)  # the webhook-id header: receivers deduplicate on it
    webhook_id: str = Field(index=True)
    event_type: str
    payload: str
    state: str = Field(index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=utc_column(index=True))
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())


class UiSessionRow(SQLModel, table=True):
    """A signed-in reviewer's browser session; the cookie holds a token, the table its hash."""

    __tablename__ = "ui_sessions"

    token_hash: str = Field(primary_key=True)
    key_id: str  # the key signed in with: revoking it ends the session
    csrf_token: str
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())


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


class AuditRuleRow(SQLModel, table=True):
    """Which rules gave a verdict in a decision event: the index behind `?rule=`."""

    __tablename__ = "audit_event_rules"

    rule: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)


class PermitKeyRow(SQLModel, table=True):
    """A key that signs permits. The newest signs; an older one stays published in the JWKS
    until the last permit it signed has expired."""

    __tablename__ = "permit_keys"

    kid: str = Field(primary_key=True)
    private_pem: str  # Ed25519, PKCS#8 PEM; never logged, never served
    created_at: datetime = Field(sa_column=utc_column())
    retired_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SlackMessageRow(SQLModel, table=True):
    """The message a review got in its queue's Slack channel, and where its updates stand.

    `state`: `post` (due to be posted), `open` (posted; updated when the review resolves),
    `closed` (updated to say how it resolved), `failed` (gave up; `last_error` says why).
    A worker takes a row by moving `next_attempt_at` forward with a compare-and-set, so only
    one gateway process posts or updates each message."""

    __tablename__ = "slack_messages"

    review_id: str = Field(primary_key=True)
    channel: str
    ts: str | None = None  # Slack's id of the message, once posted
    state: str
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=utc_column())
    last_error: str | None = None
    created_at: datetime = Field(sa_column=utc_column())


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


class ShadowRunRow(SQLModel, table=True):
    """A candidate rule pack evaluated beside the active one on live traffic (`rules shadow`),
    from `started_at` until `stopped_at`; gateways load it from `path`."""

    __tablename__ = "shadow_runs"

    id: str = Field(primary_key=True)
    path: str
    revision: str
    started_by: str
    started_at: datetime = Field(sa_column=utc_column())
    stopped_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ShadowResultRow(SQLModel, table=True):
    """What the shadow pack would have answered to one live decision, beside what was."""

    __tablename__ = "shadow_results"

    decision_id: str = Field(primary_key=True)
    run_id: str = Field(index=True)
    action_type: str
    active_outcome: str  # the rules' outcome recorded (budgets left out)
    shadow_outcome: str
    agree: bool
    recorded_at: datetime = Field(sa_column=utc_column())
