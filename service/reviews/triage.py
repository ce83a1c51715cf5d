"""A queue's open reviews as a reviewer triages them: what tells them apart at a glance (the
agent and its owner, the amount, target and work item, the first line of the justification,
the rule that routed it, how long it waited, when it is due), sorted and filtered.

Everything shown comes from the decision's audit event (the proposal as recorded, masked as
the pack says) and the principals' names; nothing the agent wrote is trusted as the gate's
words (the pages show it as the agent's)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from policy.outcome import Outcome
from service.audit.query import AuditEvent, recorded_decisions_of
from service.auth.principals import names_and_owners
from service.reviews.models import Review, ReviewKind

Sort = Literal["due", "amount", "age"]
# Within this much of its due time, a review is marked due soon.
DUE_SOON = timedelta(hours=1)


class TriageQuery(BaseModel):
    """How a reviewer orders and narrows a queue's list (kept in the page's URL)."""

    sort: Sort = "due"
    action_type: str | None = Field(None, max_length=128)
    agent: str | None = Field(None, max_length=128, description="the agent's name")
    min_amount: float | None = Field(None, ge=0)
    max_amount: float | None = Field(None, ge=0)


class TriageRow(BaseModel):
    """One open review, with what tells it apart from the others in its queue."""

    review: Review
    agent: str
    owner: str | None
    amount: float | None
    currency: str | None
    target: str | None
    work_item: str | None
    justification: str | None  # its first line
    routed_by: str | None  # the rules that sent it to people, or "sampled" (post-hoc)
    waited: timedelta
    due_in: timedelta

    @property
    def overdue(self) -> bool:
        """Past its due time."""
        return self.due_in < timedelta(0)

    @property
    def due_soon(self) -> bool:
        """Due within the hour (and not yet overdue)."""
        return timedelta(0) <= self.due_in < DUE_SOON


def triage_rows(
    connection: Connection, reviews: Iterable[Review], now: datetime
) -> list[TriageRow]:
    """The reviews with what the list shows of each (their decisions' events, their agents)."""
    reviews = list(reviews)
    events = recorded_decisions_of(connection, (r.decision_id for r in reviews))
    people = names_and_owners(connection, (r.agent_id for r in reviews))
    return [
        _row(review, events.get(review.decision_id), people.get(review.agent_id), now)
        for review in reviews
    ]


def narrowed(rows: Iterable[TriageRow], query: TriageQuery) -> list[TriageRow]:
    """The rows the query keeps, in the order it asks for."""
    kept = [row for row in rows if _kept(row, query)]
    if query.sort == "amount":  # the largest first; rows without an amount last
        return sorted(kept, key=lambda r: (r.amount is None, -(r.amount or 0), r.review.due_at))
    if query.sort == "age":  # the longest waiting first
        return sorted(kept, key=lambda r: (r.review.created_at, r.review.id))
    return sorted(kept, key=lambda r: (r.review.due_at, r.review.id))


def _kept(row: TriageRow, query: TriageQuery) -> bool:
    if query.action_type and row.review.action_type != query.action_type:
        return False
    if query.agent and row.agent != query.agent:
        return False
    if query.min_amount is not None and (row.amount is None or row.amount < query.min_amount):
        return False
    return query.max_amount is None or (row.amount is not None and row.amount <= query.max_amount)


def _row(
    review: Review, event: AuditEvent | None, who: tuple[str, str | None] | None, now: datetime
) -> TriageRow:
    document: dict[str, Any] = event.event if event else {}
    proposal = document.get("proposal") or {}
    action = proposal.get("action") or {}
    amount = action.get("amount") if isinstance(action.get("amount"), dict) else None
    justification = proposal.get("justification")
    return TriageRow(
        review=review,
        agent=who[0] if who else review.agent_id,
        owner=who[1] if who else None,
        amount=amount.get("value") if amount else None,
        currency=amount.get("currency") if amount else None,
        target=action.get("target"),
        work_item=(proposal.get("work_item") or {}).get("id"),
        justification=justification.splitlines()[0] if justification else None,
        routed_by=_routed_by(review, document.get("decision") or {}),
        waited=now - review.created_at,
        due_in=review.due_at - now,
    )


def _routed_by(review: Review, decision: dict[str, Any]) -> str | None:
    if review.kind is ReviewKind.POST_HOC:
        return "sampled"
    routing = [
        r["rule"] for r in decision.get("reasons", []) if r.get("outcome") == Outcome.ROUTE_TO_HUMAN
    ]
    return ", ".join(routing) or None
