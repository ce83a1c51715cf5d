"""Reading reviews: the queues a principal may see, their tasks, and one task's packet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, false, or_, select

from policy.decision import AuditRef, Decision
from policy.rule_pack import RulePack
from service.audit.query import recorded_decision
from service.auth.principals import Principal
from service.errors import NotFound
from service.reviews.eligibility import may_read
from service.reviews.models import Review, ReviewKind, ReviewPacket, ReviewState
from service.reviews.tables import REVIEW_TASKS
from service.reviews.tasks import OPEN, as_review, task_row
from service.reviews.triage import TriageQuery, TriageRow, narrowed, triage_rows
from service.store.utc import utc_now

MAX_PAGE = 200


class QueueSummary(BaseModel):
    """One queue as its reviewers see it: what waits and what is nearly due."""

    name: str
    description: str
    sla: timedelta
    on_timeout: str
    pending: int
    claimed: int
    overdue: int
    post_hoc_open: int
    next_due_at: datetime | None


class ReviewBoard:
    """Read-only views of reviews, filtered to what the principal may see."""

    def __init__(
        self, database: Engine, pack: RulePack, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._database = database
        self._pack = pack
        self._clock = clock

    def visible_queues(self, principal: Principal) -> list[str]:
        """The queues this principal may read: every queue for auditors, else their own."""
        return [n for n, q in self._pack.data.queues.items() if may_read(principal, q)]

    def reviews(
        self,
        principal: Principal,
        *,
        queue: str | None = None,
        state: ReviewState | None = None,
        kind: ReviewKind | None = None,
        decision: str | None = None,
        limit: int = 50,
    ) -> list[Review]:
        """Reviews in the principal's queues, soonest due first (of one decision, if named)."""
        now = self._clock()
        queues = self.visible_queues(principal)
        if queue is not None:
            queues = [q for q in queues if q == queue]
        query = select(REVIEW_TASKS).where(REVIEW_TASKS.c.queue.in_(queues))
        if kind is not None:
            query = query.where(REVIEW_TASKS.c.kind == kind.value)
        if decision is not None:
            query = query.where(REVIEW_TASKS.c.decision_id == decision)
        if state is not None:
            query = query.where(_state_filter(state, now))
        query = query.order_by(REVIEW_TASKS.c.due_at, REVIEW_TASKS.c.id).limit(min(limit, MAX_PAGE))
        with self._database.connect() as connection:
            rows = connection.execute(query).all()
            hidden = self._not_asked(connection, principal, now)
        return [as_review(row, now) for row in rows if row.id not in hidden]

    def triage(self, principal: Principal, queue: str, query: TriageQuery) -> list[TriageRow]:
        """A queue's open reviews as its list shows them (`reviews/triage.py`), at most
        `MAX_PAGE` of the soonest due; NotFound when the principal may not read the queue."""
        if queue not in self.visible_queues(principal):
            raise NotFound(f"no queue {queue}")
        now = self._clock()
        with self._database.connect() as connection:
            rows = connection.execute(
                select(REVIEW_TASKS)
                .where(REVIEW_TASKS.c.queue == queue, REVIEW_TASKS.c.state == OPEN)
                .order_by(REVIEW_TASKS.c.due_at, REVIEW_TASKS.c.id)
                .limit(MAX_PAGE)
            ).all()
            hidden = self._not_asked(connection, principal, now)
            reviews = [as_review(row, now) for row in rows if row.id not in hidden]
            return narrowed(triage_rows(connection, reviews, now), query)

    def packet(self, review_id: str, principal: Principal) -> ReviewPacket:
        """A review with the proposal and the decision, if the principal may read it."""
        found = self.packet_of(review_id)
        if found is None or not may_read(principal, self._pack.data.queues.get(found.queue)):
            raise NotFound(f"no review {review_id}")
        with self._database.connect() as connection:
            if review_id in self._not_asked(connection, principal, self._clock()):
                raise NotFound(f"no review {review_id}")
        return found

    def packet_of(self, review_id: str) -> ReviewPacket | None:
        """A review's packet for the gateway's own integrations (Slack); people read it
        through `packet`, which checks they may. The proposal and the decision are the
        audit chain's (the proposal masked as the pack says; never the permit)."""
        now = self._clock()
        with self._database.connect() as connection:
            row = task_row(connection, review_id)
            if row is None:
                return None
            recorded = recorded_decision(connection, row.decision_id)
        if recorded is None:
            return None
        review = as_review(row, now)
        answered = recorded.event["decision"]
        decision = Decision.model_validate(
            answered | {"audit": AuditRef(seq=recorded.seq, hash=recorded.hash)}
        )
        return ReviewPacket(
            **review.model_dump(), proposal=recorded.event["proposal"], decision=decision
        )

    def revealed_check(self, review_id: str) -> tuple[str, str] | None:
        """For a known-answer check already resolved, when the pack tells reviewers
        (`reveal_after_verdict`): the right verdict and why. None otherwise, real reviews
        and open checks included."""
        if not self._pack.data.canaries.settings.reveal_after_verdict:
            return None
        with self._database.connect() as connection:
            row = task_row(connection, review_id)
            if row is None or row.canary_id is None or row.state == OPEN:
                return None
            recorded = recorded_decision(connection, row.decision_id)
        canary = recorded.event.get("canary") if recorded is not None else None
        return (str(canary["expect"]), str(canary["why"])) if canary else None

    def _not_asked(self, connection: Connection, principal: Principal, now: datetime) -> set[str]:
        """The open canaries this reviewer is not asked: in each queue where they already
        answered the pack's daily most (`max_per_reviewer_per_day`), the rest are left out
        of what they see, as if they were not there."""
        caps = {
            name: rate.max_per_reviewer_per_day
            for name, rate in self._pack.data.canaries.queues.items()
        }
        if not caps:
            return set()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        answered = Counter(
            connection.execute(
                select(REVIEW_TASKS.c.queue).where(
                    REVIEW_TASKS.c.canary_id.is_not(None),
                    REVIEW_TASKS.c.resolved_by == principal.id,
                    REVIEW_TASKS.c.resolved_at >= today,
                )
            ).scalars()
        )
        full = [name for name, cap in caps.items() if answered[name] >= cap]
        if not full:
            return set()
        return set(
            connection.execute(
                select(REVIEW_TASKS.c.id).where(
                    REVIEW_TASKS.c.canary_id.is_not(None),
                    REVIEW_TASKS.c.state == OPEN,
                    REVIEW_TASKS.c.queue.in_(full),
                )
            ).scalars()
        )

    def queues(self, principal: Principal) -> list[QueueSummary]:
        """The principal's queues with their counts and the next time box to run out."""
        now = self._clock()
        names = self.visible_queues(principal)
        with self._database.connect() as connection:
            hidden = self._not_asked(connection, principal, now)
            rows = [
                row
                for row in connection.execute(
                    select(REVIEW_TASKS).where(
                        REVIEW_TASKS.c.queue.in_(names), REVIEW_TASKS.c.state == OPEN
                    )
                ).all()
                if row.id not in hidden
            ]
        summaries = []
        for name in names:
            queue = self._pack.data.queues[name]
            mine = [r for r in rows if r.queue == name]
            blocking = [r for r in mine if r.kind == ReviewKind.BLOCKING.value]
            claimed = [r for r in blocking if r.lease_until is not None and r.lease_until > now]
            summaries.append(
                QueueSummary(
                    name=name,
                    description=queue.description,
                    sla=queue.sla,
                    on_timeout=queue.on_timeout.value,
                    pending=len(blocking) - len(claimed),
                    claimed=len(claimed),
                    overdue=sum(1 for r in blocking if r.due_at <= now),
                    post_hoc_open=len(mine) - len(blocking),
                    next_due_at=min((r.due_at for r in blocking), default=None),
                )
            )
        return summaries


def _state_filter(state: ReviewState, now: datetime):  # type: ignore[no-untyped-def]
    """The SQL condition for a state; pending and claimed split open reviews by their lease."""
    live_claim = and_(REVIEW_TASKS.c.claimed_by.is_not(None), REVIEW_TASKS.c.lease_until > now)
    if state is ReviewState.PENDING:
        return and_(
            REVIEW_TASKS.c.state == OPEN, or_(REVIEW_TASKS.c.claimed_by.is_(None), ~live_claim)
        )
    if state is ReviewState.CLAIMED:
        return and_(REVIEW_TASKS.c.state == OPEN, live_claim)
    return REVIEW_TASKS.c.state == state.value if state.resolved else false()
