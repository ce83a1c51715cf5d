"""The outbox: a resolved review queues one delivery per matching webhook, in its transaction."""

from __future__ import annotations

import json

import uuid_utils
from sqlalchemy import Connection, insert, or_, select

from service.reviews.models import Review
from service.store.utc import utc_now
from service.webhooks.tables import WEBHOOK_DELIVERIES, WEBHOOKS

REVIEW_RESOLVED = "review.resolved"


def review_resolved_payload(review: Review) -> str:
    """The message body (Standard Webhooks shape: type, timestamp, data)."""
    return json.dumps(
        {
            "type": REVIEW_RESOLVED,
            "timestamp": (review.resolved_at or utc_now()).isoformat(),
            "data": {
                "decision_id": review.decision_id,
                "review_id": review.id,
                "state": review.state.value,
                "queue": review.queue,
                "verdict": review.verdict.value if review.verdict else None,
                "note": review.note,
            },
        },
        separators=(",", ":"),
    )


def enqueue_review_resolved(connection: Connection, review: Review) -> None:
    """Queue the message for the agent's webhooks (all-decision ones and this decision's)."""
    if review.kind.value != "blocking" or review.canary:
        return  # the agent waits only on blocking reviews; a known-answer check is not its
    hooks = connection.execute(
        select(WEBHOOKS.c.id).where(
            WEBHOOKS.c.agent_id == review.agent_id,
            WEBHOOKS.c.revoked_at.is_(None),
            or_(WEBHOOKS.c.decision_id.is_(None), WEBHOOKS.c.decision_id == review.decision_id),
        )
    ).all()
    if not hooks:
        return
    now = utc_now()
    payload = review_resolved_payload(review)
    connection.execute(
        insert(WEBHOOK_DELIVERIES),
        [
            {
                "id": "msg_" + str(uuid_utils.uuid7()),
                "webhook_id": hook_id,
                "event_type": REVIEW_RESOLVED,
                "payload": payload,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for (hook_id,) in hooks
        ],
    )
