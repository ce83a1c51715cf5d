"""The tables webhooks/ owns: agents' webhooks, and each message with its attempts.

Other domains read them through the typed handles at the end of this module, or through
webhooks/'s functions; only webhooks/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


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


WEBHOOKS = table_of(WebhookRow)
WEBHOOK_DELIVERIES = table_of(WebhookDeliveryRow)
