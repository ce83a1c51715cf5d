"""Auditors' queries over the log: filters on indexed columns, pages by an opaque cursor.

Pages run in `seq` order and the cursor is the last `seq` seen, so a page never shifts while
new events arrive: they take higher numbers and show up on later pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, Select, select

from service.audit.index import DECIDED
from service.audit.tables import AUDIT_EVENTS, AUDIT_RULES
from service.errors import InvalidCursor
from service.store.utc import UtcMoment

MAX_PAGE = 1000
_STREAM_BATCH = 2000


class EventFilter(BaseModel):
    """Which events: every given condition must hold."""

    since: UtcMoment | None = Field(None, description="recorded at or after (ISO 8601)")
    until: UtcMoment | None = Field(None, description="recorded before (ISO 8601)")
    agent_id: str | None = None
    action_type: str | None = None
    outcome: str | None = None
    rule: str | None = Field(None, description="a rule that gave a verdict, e.g. money.limit")
    risk_tier: int | None = Field(None, ge=0, le=3)
    policy_revision: str | None = None
    work_item: str | None = None
    queue: str | None = None
    kind: str | None = Field(None, description="decision, review_approved, ...")
    decision_id: str | None = None


class AuditEvent(BaseModel):
    """One link of the chain with its event."""

    seq: int
    kind: str
    recorded_at: datetime
    decision_id: str | None
    prev_hash: str
    hash: str
    event: dict[str, Any]


class EventPage(BaseModel):
    """A page of events, and the cursor to ask for what follows. At the end `more` is false,
    but the cursor still works: asked again later, it returns the events added since."""

    events: list[AuditEvent]
    next_cursor: str
    more: bool


def recorded_decision(connection: Connection, decision_id: str) -> AuditEvent | None:
    """The event that recorded a decision (`decision`, or a known-answer check's `canary`):
    what was asked (masked as the pack says), by whom, and what was answered (never its
    permit); None when there is none."""
    row = connection.execute(
        select(AUDIT_EVENTS).where(
            AUDIT_EVENTS.c.decision_id == decision_id, AUDIT_EVENTS.c.kind.in_(DECIDED)
        )
    ).first()
    return None if row is None else event_of_row(row)


def recorded_decisions_of(
    connection: Connection, decision_ids: Iterable[str]
) -> dict[str, AuditEvent]:
    """The events that recorded these decisions (real ones, or canaries), by decision id
    (one query per 500 ids)."""
    wanted = list(dict.fromkeys(decision_ids))
    found: dict[str, AuditEvent] = {}
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            select(AUDIT_EVENTS).where(
                AUDIT_EVENTS.c.decision_id.in_(wanted[start : start + 500]),
                AUDIT_EVENTS.c.kind.in_(DECIDED),
            )
        ).all()
        found |= {str(row.decision_id): event_of_row(row) for row in rows}
    return found


def recorded_decisions(
    database: Engine, *, since: datetime, until: datetime
) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    """Every `decision` event recorded in [since, until), in chain order and streamed: the
    decision id, when it was recorded, and the event (what replays decide again)."""
    query = (
        select(AUDIT_EVENTS.c.decision_id, AUDIT_EVENTS.c.recorded_at, AUDIT_EVENTS.c.event)
        .where(
            AUDIT_EVENTS.c.kind == "decision",
            AUDIT_EVENTS.c.recorded_at >= since,
            AUDIT_EVENTS.c.recorded_at < until,
        )
        .order_by(AUDIT_EVENTS.c.seq)
    )
    with database.connect() as connection:
        rows = connection.execution_options(yield_per=_STREAM_BATCH).execute(query)
        for decision_id, recorded_at, raw in rows:
            yield str(decision_id), recorded_at, json.loads(raw)


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "seq" or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc


def selection(wanted: EventFilter, after_seq: int = 0) -> Select[Any]:
    """The query for matching events after `after_seq`, in seq order."""
    query = select(AUDIT_EVENTS).where(AUDIT_EVENTS.c.seq > after_seq)
    equal = {
        "agent_id": wanted.agent_id,
        "action_type": wanted.action_type,
        "outcome": wanted.outcome,
        "risk_tier": wanted.risk_tier,
        "policy_revision": wanted.policy_revision,
        "work_item_id": wanted.work_item,
        "queue": wanted.queue,
        "kind": wanted.kind,
        "decision_id": wanted.decision_id,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(AUDIT_EVENTS.c[column] == value)
    if wanted.since is not None:
        query = query.where(AUDIT_EVENTS.c.recorded_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AUDIT_EVENTS.c.recorded_at < wanted.until)
    if wanted.rule is not None:
        query = query.where(
            AUDIT_EVENTS.c.seq.in_(
                select(AUDIT_RULES.c.seq).where(AUDIT_RULES.c.rule == wanted.rule)
            )
        )
    return query.order_by(AUDIT_EVENTS.c.seq)


def event_of_row(row: Any) -> AuditEvent:
    """A stored row as an `AuditEvent`."""
    return AuditEvent(
        seq=row.seq,
        kind=row.kind,
        recorded_at=row.recorded_at,
        decision_id=row.decision_id,
        prev_hash=row.prev_hash,
        hash=row.hash,
        event=json.loads(row.event),
    )


def query_events(
    database: Engine, wanted: EventFilter, *, limit: int = 100, cursor: str | None = None
) -> EventPage:
    """One page of matching events after the cursor, oldest first."""
    limit = max(1, min(limit, MAX_PAGE))
    after = _after(cursor)
    with database.connect() as connection:
        rows = connection.execute(selection(wanted, after).limit(limit + 1)).all()
    events = [event_of_row(row) for row in rows[:limit]]
    last = events[-1].seq if events else after
    return EventPage(events=events, next_cursor=_cursor(last), more=len(rows) > limit)


def stream_events(connection: Connection, wanted: EventFilter) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, read in batches (for exports)."""
    after = 0
    while True:
        rows = connection.execute(selection(wanted, after).limit(_STREAM_BATCH)).all()
        yield from (event_of_row(row) for row in rows)
        if len(rows) < _STREAM_BATCH:
            return
        after = rows[-1].seq
