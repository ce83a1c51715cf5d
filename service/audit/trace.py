"""A work item end to end: every event of its decisions in order, and where its time went."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, or_, select

from service.audit.query import AuditEvent, event_of_row
from service.audit.tables import AUDIT_EVENTS
from service.errors import NotFound


class ActionSpan(BaseModel):
    """One action of the work item: how long it waited on people, and where it ended."""

    decision_id: str
    action_type: str
    outcome: str
    proposed_at: datetime
    waited_on_humans_seconds: float
    last_event_at: datetime


class Trace(BaseModel):
    """Every event of a work item in order, and where its time went."""

    work_item: str
    events: list[AuditEvent]
    actions: list[ActionSpan]
    span_seconds: float
    waited_on_humans_seconds: float
    other_seconds: float  # the span minus human waiting: deciding, acting, the agent's own work


_RESOLVING = {"review_approved", "review_rejected", "review_expired", "review_withdrawn"}


def trace(database: Engine, work_item: str) -> Trace:
    """The work item's decisions and everything that happened to them, oldest first."""
    decisions = AUDIT_EVENTS.alias("work_item_decisions")  # not correlated with the outer query
    decision_ids = select(decisions.c.decision_id).where(
        decisions.c.work_item_id == work_item, decisions.c.kind == "decision"
    )
    with database.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENTS)
            .where(
                or_(
                    AUDIT_EVENTS.c.work_item_id == work_item,
                    AUDIT_EVENTS.c.decision_id.in_(decision_ids),
                )
            )
            .order_by(AUDIT_EVENTS.c.seq)
        ).all()
    if not rows:
        raise NotFound(f"no events for work item {work_item}")
    events = [event_of_row(row) for row in rows]
    actions = [_span(event, events) for event in events if event.kind == "decision"]
    span = (events[-1].recorded_at - events[0].recorded_at).total_seconds()
    waited = sum(action.waited_on_humans_seconds for action in actions)
    return Trace(
        work_item=work_item,
        events=events,
        actions=actions,
        span_seconds=span,
        waited_on_humans_seconds=waited,
        other_seconds=max(0.0, span - waited),
    )


def _span(decision: AuditEvent, events: list[AuditEvent]) -> ActionSpan:
    mine = [e for e in events if e.decision_id == decision.decision_id]
    resolved = next((e for e in mine if e.kind in _RESOLVING and _final(e)), None)
    waited = 0.0
    if decision.event["decision"]["outcome"] == "route_to_human":
        until = resolved.recorded_at if resolved else mine[-1].recorded_at
        waited = (until - decision.recorded_at).total_seconds()
    return ActionSpan(
        decision_id=str(decision.decision_id),
        action_type=decision.event["proposal"]["action"]["type"],
        outcome=decision.event["decision"]["outcome"],
        proposed_at=decision.recorded_at,
        waited_on_humans_seconds=waited,
        last_event_at=mine[-1].recorded_at,
    )


def _final(event: AuditEvent) -> bool:
    details = event.event.get("details", {})
    return event.kind != "review_approved" or details.get("approvals", 1) >= details.get(
        "required", 1
    )
