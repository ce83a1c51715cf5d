"""Registering webhooks: per agent key (every decision) or per decision, with a signing secret."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

import uuid_utils
from pydantic import AnyHttpUrl, BaseModel
from sqlalchemy import Engine, insert, select, update

from service.auth.principals import Principal
from service.decisions.lookup import proposer_of
from service.errors import NotFound
from service.store.database import writing
from service.store.utc import utc_now
from service.webhooks.destinations import Destinations
from service.webhooks.tables import WEBHOOK_DELIVERIES, WEBHOOKS


class WebhookCreate(BaseModel):
    """What an agent registers: where to post, and optionally for which decision only."""

    url: AnyHttpUrl
    decision_id: str | None = None


class Webhook(BaseModel):
    """A registered webhook (without its secret)."""

    id: str
    url: str
    decision_id: str | None
    created_at: datetime


class WebhookCreated(Webhook):
    """The answer to a registration: the only time the signing secret is shown."""

    secret: str


class Delivery(BaseModel):
    """One message to a webhook and how its attempts went."""

    id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def register(
    database: Engine, destinations: Destinations, agent: Principal, request: WebhookCreate
) -> WebhookCreated:
    """Register a webhook for the agent (for one of its decisions, if one is named); its URL
    must resolve to addresses webhooks may post to."""
    destinations.check(str(request.url))
    now = utc_now()
    row = {
        "id": str(uuid_utils.uuid7()),
        "agent_id": agent.id,
        "decision_id": request.decision_id,
        "url": str(request.url),
        "secret": new_secret(),
        "created_at": now,
        "revoked_at": None,
    }
    with writing(database) as connection:
        decision_id = request.decision_id
        if decision_id is not None and proposer_of(connection, decision_id) != agent.id:
            raise NotFound(f"no decision {decision_id}")
        connection.execute(insert(WEBHOOKS), [row])
    return WebhookCreated(
        id=row["id"],
        url=row["url"],
        decision_id=request.decision_id,
        created_at=now,
        secret=row["secret"],
    )


def webhooks_of(database: Engine, agent: Principal) -> list[Webhook]:
    """The agent's live webhooks."""
    with database.connect() as connection:
        rows = connection.execute(
            select(WEBHOOKS).where(WEBHOOKS.c.agent_id == agent.id, WEBHOOKS.c.revoked_at.is_(None))
        ).all()
    return [
        Webhook(id=r.id, url=r.url, decision_id=r.decision_id, created_at=r.created_at)
        for r in rows
    ]


def revoke(database: Engine, agent: Principal, webhook_id: str) -> None:
    """Stop sending to a webhook; pending deliveries to it are dropped by the sender."""
    with writing(database) as connection:
        changed = connection.execute(
            update(WEBHOOKS)
            .where(
                WEBHOOKS.c.id == webhook_id,
                WEBHOOKS.c.agent_id == agent.id,
                WEBHOOKS.c.revoked_at.is_(None),
            )
            .values(revoked_at=utc_now())
        ).rowcount
    if changed != 1:
        raise NotFound(f"no webhook {webhook_id}")


def deliveries_of(database: Engine, agent: Principal, webhook_id: str) -> list[Delivery]:
    """Every message sent (or being sent) to one of the agent's webhooks."""
    with database.connect() as connection:
        owner = connection.execute(
            select(WEBHOOKS.c.agent_id).where(WEBHOOKS.c.id == webhook_id)
        ).scalar()
        if owner != agent.id:
            raise NotFound(f"no webhook {webhook_id}")
        rows = connection.execute(
            select(WEBHOOK_DELIVERIES)
            .where(WEBHOOK_DELIVERIES.c.webhook_id == webhook_id)
            .order_by(WEBHOOK_DELIVERIES.c.created_at)
        ).all()
    return [Delivery.model_validate(r, from_attributes=True) for r in rows]
