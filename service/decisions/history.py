"""What a reviewer needs around a packet: who the agent is and who answers for it, what
happened earlier on the same work item (outcomes, rejections with their causes and notes,
what this proposal revises), and how the agent's last few actions of this type ended.

Read from the audit chain (proposals as recorded, masked as the pack says), the decisions'
reported outcomes and their reviews, so each earlier action shows its one status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select

from service.audit.query import AuditEvent, event_of_row, recorded_decisions_of
from service.audit.tables import AUDIT_EVENTS
from service.auth.principals import names_and_owners
from service.decisions.status import ActionStatus, status_of
from service.decisions.tables import DECISIONS
from service.reviews.models import ReviewPacket
from service.reviews.tasks import blocking_tasks_of

# How many earlier decisions of a work item, and of the agent's same action type, are shown.
EARLIER = 20
RECENT = 5


class PastDecision(BaseModel):
    """An earlier decision as a reviewer reads it in a packet's context."""

    decision_id: str
    action_type: str
    outcome: str
    status: ActionStatus
    decided_at: datetime
    amount: float | None = None
    currency: str | None = None
    # The blocking review's end, when people decided it: its note and (rejections) cause.
    note: str | None = None
    cause: str | None = None
    revises: str | None = None


class PacketContext(BaseModel):
    """A packet's context (see the module)."""

    agent: str
    owner: str | None
    work_item: str | None
    earlier: list[PastDecision]  # the work item's decisions before this one, oldest first
    revises: PastDecision | None  # the decision this proposal revises, when it says
    recent: list[PastDecision]  # the agent's last decisions of this action type, newest first


def packet_context(database: Engine, packet: ReviewPacket) -> PacketContext:
    """The context of a packet the reader may already see (the board checked)."""
    proposal = packet.proposal
    work_item = (proposal.get("work_item") or {}).get("id")
    with database.connect() as connection:
        this = recorded_decisions_of(connection, [packet.decision_id]).get(packet.decision_id)
        before = this.seq if this else None
        earlier = (
            _events(connection, before, AUDIT_EVENTS.c.work_item_id == work_item, EARLIER)[::-1]
            if work_item and before
            else []
        )
        recent = (
            _events(
                connection,
                before,
                (AUDIT_EVENTS.c.agent_id == packet.agent_id)
                & (AUDIT_EVENTS.c.action_type == packet.action_type),
                RECENT,
            )
            if before
            else []
        )
        revised_id = proposal.get("revises")
        revised = recorded_decisions_of(connection, [revised_id]) if revised_id else {}
        past = _past(connection, [*earlier, *recent, *revised.values()])
        who = names_and_owners(connection, [packet.agent_id]).get(packet.agent_id)
    return PacketContext(
        agent=who[0] if who else packet.agent_id,
        owner=who[1] if who else None,
        work_item=work_item,
        earlier=[past[str(event.decision_id)] for event in earlier],
        revises=past.get(str(revised_id)) if revised_id else None,
        recent=[past[str(event.decision_id)] for event in recent],
    )


def _events(connection: Connection, before: int, which: Any, limit: int) -> list[AuditEvent]:
    """Decision events matching `which`, recorded before seq `before`, newest first."""
    rows = connection.execute(
        select(AUDIT_EVENTS)
        .where(AUDIT_EVENTS.c.kind == "decision", AUDIT_EVENTS.c.seq < before, which)
        .order_by(AUDIT_EVENTS.c.seq.desc())
        .limit(limit)
    ).all()
    return [event_of_row(row) for row in rows]


def _past(connection: Connection, events: list[AuditEvent]) -> dict[str, PastDecision]:
    """Each event's decision with its status now (its review's end, its reported outcome)."""
    ids = [str(event.decision_id) for event in events]
    lifecycle = dict(
        connection.execute(
            select(DECISIONS.c.decision_id, DECISIONS.c.lifecycle_status).where(
                DECISIONS.c.decision_id.in_(ids)
            )
        ).all()
    )
    reviews = blocking_tasks_of(connection, ids)
    found = {}
    for event in events:
        decision_id = str(event.decision_id)
        decision, proposal = event.event["decision"], event.event["proposal"]
        review = reviews.get(decision_id)
        state = review.state if review is not None and review.state != "open" else None
        amount = proposal["action"].get("amount") or {}
        found[decision_id] = PastDecision(
            decision_id=decision_id,
            action_type=proposal["action"]["type"],
            outcome=decision["outcome"],
            status=status_of(decision["outcome"], state, lifecycle.get(decision_id)),
            decided_at=event.recorded_at,
            amount=amount.get("value"),
            currency=amount.get("currency"),
            note=review.note if review is not None else None,
            cause=review.cause if review is not None else None,
            revises=proposal.get("revises"),
        )
    return found
