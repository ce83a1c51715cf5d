"""Canaries proposed from incidents: actions a post-hoc reviewer found should not have
happened make good known-answer checks (the right answer: reject), for an author to accept.

Each proposal is the one the log recorded, so it is masked as the pack masks (a value the
pack erased stays erased: the author fills it in, or the canary fails to load)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from policy.pack_data import PackData
from service.audit.query import recorded_decisions_of
from service.reviews.models import PostHocVerdict, ReviewKind
from service.reviews.tables import REVIEW_TASKS


def from_incidents(
    database: Engine, data: PackData, *, since: datetime | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Canary entries for canaries.yaml, newest incident first."""
    query = (
        select(REVIEW_TASKS.c.decision_id, REVIEW_TASKS.c.note, REVIEW_TASKS.c.resolved_at)
        .where(
            REVIEW_TASKS.c.kind == ReviewKind.POST_HOC.value,
            REVIEW_TASKS.c.verdict == PostHocVerdict.SHOULD_NOT_HAVE_HAPPENED.value,
        )
        .order_by(REVIEW_TASKS.c.resolved_at.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(REVIEW_TASKS.c.resolved_at >= since)
    with database.connect() as connection:
        rows = connection.execute(query).all()
        events = recorded_decisions_of(connection, (str(row.decision_id) for row in rows))
    found = []
    for row in rows:
        event = events.get(str(row.decision_id))
        if event is None:
            continue
        proposal = _pruned(
            {k: v for k, v in event.event["proposal"].items() if k != "idempotency_key"}
        )
        entry = data.catalog.get(proposal["action"]["type"])
        found.append(
            {
                "id": f"incident-{str(row.decision_id)[-12:]}",
                "queue": entry.owner_queue if entry else data.fail_closed.queue,
                "agent": event.event["agent"]["name"],
                "expect": "reject",
                "why": row.note or "a post-hoc reviewer found it should not have happened",
                "proposal": proposal,
            }
        )
    return found


def _pruned(value: Any) -> Any:
    """The proposal as an author would write it: fields left at their defaults (None, empty
    lists and mappings) dropped."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value
