"""The review desk: claim, approve, reject, post-hoc verdicts, timeouts and single-use approvals.

Each step reads the review inside a write transaction, checks it, changes it with a
compare-and-set on `version` and appends its audit event in the same transaction. Two
reviewers racing, or two gateway processes timing out the same review, cannot both win:
the loser's update matches no row and gets `review_conflict` (or, after the winner
committed, `review_closed` / `claimed_by_other`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from policy.pack_data import TimeoutAction
from policy.rule_pack import RulePack
from service.audit.chain import record
from service.audit.query import recorded_decision
from service.auth.principals import Principal, owner_of
from service.errors import (
    AlreadyApproved,
    ApprovalMismatch,
    ApprovalUsed,
    ClaimedByOther,
    ErrorDetail,
    FourEyes,
    NotApproved,
    NoteRequired,
    NotFound,
    NotQueueReviewer,
    PolicyChanged,
    ReviewClosed,
    ReviewConflict,
    ReviewsNotAlike,
    ServiceError,
    WrongReviewKind,
)
from service.reviews.eligibility import four_eyes_violated, may_review
from service.reviews.models import (
    ApprovalUse,
    BatchResult,
    IncidentCause,
    PostHocVerdict,
    Review,
    ReviewKind,
    ReviewState,
)
from service.reviews.tables import REVIEW_TASKS
from service.reviews.tasks import OPEN, as_review, blocking_task_of, effective_state, task_row
from service.store.database import writing
from service.store.utc import utc_now

_UNCLAIMED = {"claimed_by": None, "claimed_by_name": None, "lease_until": None}
SLA_CLOCK = {"id": "system:sla-clock", "name": "SLA clock", "role": "system"}
CANARY_ANSWERED = "canary_answered"
# The state a canary's right verdict leaves its review in.
_RESOLVES_AS = {"approve": ReviewState.APPROVED.value, "reject": ReviewState.REJECTED.value}
# Called inside the transaction that resolves a review (the webhook outbox writes there).
ResolvedHook = Callable[[Connection, Review], None]
# More to write in a step's transaction, given the step's time (an approval's spending).
InTransaction = Callable[[Connection, datetime], None]


@dataclass(frozen=True)
class _Step:
    """What a transition changes and how its audit event describes it."""

    kind: str
    changes: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    resolves: bool = False
    # More to write in the same transaction (what a used approval spends of its budgets).
    also: InTransaction | None = None


def _resolution(
    state: ReviewState, actor: Principal, now: datetime, note: str | None
) -> dict[str, Any]:
    """The columns a reviewer's final step sets."""
    return {
        "state": state.value,
        "resolved_by": actor.id,
        "resolved_at": now,
        "note": note,
        **_UNCLAIMED,
    }


def _record_canary_answer(
    connection: Connection, review: Review, actor: Principal | None, now: datetime
) -> None:
    """A known-answer check resolved: record the verdict against the right one (from the
    canary's own event), for auditors and authors; nothing reviewer-facing changes."""
    recorded = recorded_decision(connection, review.decision_id)
    canary = recorded.event.get("canary", {}) if recorded is not None else {}
    answered = review.state.value  # approved, rejected or expired
    expected = _RESOLVES_AS.get(canary.get("expect", ""))
    body = {
        "subject": {"action_type": review.action_type, "risk_tier": review.risk_tier},
        "review": {"id": review.id, "kind": review.kind.value, "queue": review.queue},
        "actor": _actor(actor) if actor else SLA_CLOCK,
        "canary": {
            "id": canary.get("id"),
            "expect": canary.get("expect"),
            "answered": answered,
            "correct": None if answered == "expired" else answered == expected,
            "seconds": round((now - review.created_at).total_seconds(), 3),
        },
    }
    record(connection, CANARY_ANSWERED, now=now, decision_id=review.decision_id, body=body)


def _actor(principal: Principal) -> dict[str, str]:
    return {"id": principal.id, "name": principal.name, "role": principal.role.value}


class ReviewDesk:
    """Every change to a review goes through here."""

    def __init__(
        self,
        database: Engine,
        pack: RulePack,
        *,
        lease: timedelta,
        clock: Callable[[], datetime] = utc_now,
        on_resolved: ResolvedHook | None = None,
        after_resolved: Callable[[Review], None] | None = None,
    ) -> None:
        self._database = database
        self._pack = pack
        self._lease = lease
        self._clock = clock
        self._on_resolved = on_resolved
        self._after_resolved = after_resolved

    # -- reviewer steps ---------------------------------------------------------------------

    def claim(self, review_id: str, actor: Principal) -> Review:
        """Take the review for a lease; renewing one's own claim extends it."""

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            self._check_reviewer(row, actor, owner_id, now)
            lease_until = now + self._lease
            return _Step(
                "review_claimed",
                {"claimed_by": actor.id, "claimed_by_name": actor.name, "lease_until": lease_until},
                {"lease_until": lease_until.isoformat()},
            )

        return self._transition(review_id, actor, step)

    def release(self, review_id: str, actor: Principal) -> Review:
        """Give a claim back before its lease runs out."""

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            if not may_review(actor, self._pack.data.queues.get(row.queue)):
                raise NotQueueReviewer(f"this key may not work the queue {row.queue}")
            if effective_state(row, now) is not ReviewState.CLAIMED or row.claimed_by != actor.id:
                raise ClaimedByOther("you do not hold the claim on this review")
            return _Step(
                "review_released",
                _UNCLAIMED,
            )

        return self._transition(review_id, actor, step)

    def approve(self, review_id: str, actor: Principal, note: str | None = None) -> Review:
        """Approve; the review resolves when enough distinct reviewers have approved."""

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            self._check_reviewer(row, actor, owner_id, now, kind=ReviewKind.BLOCKING)
            approvals = [
                *row.approvals,
                {"principal_id": actor.id, "name": actor.name, "at": now.isoformat()}
                | ({"note": note} if note else {}),
            ]
            done = len(approvals) >= row.approvals_required
            changes: dict[str, Any] = {"approvals": approvals, **_UNCLAIMED}
            if done:
                changes |= _resolution(ReviewState.APPROVED, actor, now, note)
            details = {"approvals": len(approvals), "required": row.approvals_required}
            return _Step("review_approved", changes, details | {"note": note}, resolves=done)

        return self._transition(review_id, actor, step)

    def reject(
        self,
        review_id: str,
        actor: Principal,
        note: str,
        cause: IncidentCause = IncidentCause.OTHER,
    ) -> Review:
        """Reject with a note saying why, and the cause; the action must not happen."""
        if not note.strip():
            raise NoteRequired("a rejection needs a note saying why")

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            self._check_reviewer(row, actor, owner_id, now, kind=ReviewKind.BLOCKING)
            changes = _resolution(ReviewState.REJECTED, actor, now, note)
            changes["cause"] = cause.value
            details = {"note": note, "cause": cause.value}
            return _Step("review_rejected", changes, details, resolves=True)

        return self._transition(review_id, actor, step)

    def give_verdict(
        self,
        review_id: str,
        actor: Principal,
        verdict: PostHocVerdict,
        note: str | None,
        cause: IncidentCause | None = None,
    ) -> Review:
        """Close a post-hoc review: the sampled action was ok, or should not have happened
        (an incident, with its cause: `other` when none is given)."""
        incident = verdict is PostHocVerdict.SHOULD_NOT_HAVE_HAPPENED
        if incident and not (note and note.strip()):
            raise NoteRequired("'should_not_have_happened' needs a note saying why")
        found = (cause or IncidentCause.OTHER) if incident else None

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            self._check_reviewer(row, actor, owner_id, now, kind=ReviewKind.POST_HOC)
            changes = _resolution(ReviewState.REVIEWED, actor, now, note)
            changes["verdict"] = verdict.value
            changes["cause"] = found.value if found else None
            details = {"verdict": verdict.value, "note": note}
            if found:
                details["cause"] = found.value
            return _Step("review_verdict", changes, details, resolves=True)

        return self._transition(review_id, actor, step)

    def approve_alike(
        self, review_ids: Sequence[str], actor: Principal, note: str | None = None
    ) -> list[BatchResult]:
        """Approve several reviews of one action type in one queue with one note. Each is its
        own step, under every rule a single approval meets (four eyes, two approvers, claims,
        single use), with its own audit event; one refused says why and the rest go on.
        ReviewsNotAlike, before anything changes, when they are not of one type and queue."""
        wanted = list(dict.fromkeys(review_ids))
        with self._database.connect() as connection:
            rows = [task_row(connection, review_id) for review_id in wanted]
        if len({(row.queue, row.action_type) for row in rows if row is not None}) > 1:
            raise ReviewsNotAlike()
        results = []
        for review_id in wanted:
            try:
                self.approve(review_id, actor, note)
            except ServiceError as refused:
                error = ErrorDetail(code=refused.code, message=str(refused))
                results.append(BatchResult(review_id=review_id, ok=False, error=error))
            else:
                results.append(BatchResult(review_id=review_id, ok=True))
        return results

    # -- the agent ---------------------------------------------------------------------------

    def use_approval(
        self,
        decision_id: str,
        agent: Principal,
        proposal_digest: str,
        *,
        also: InTransaction | None = None,
    ) -> ApprovalUse:
        """Spend an approval: once, for exactly the approved proposal, under the same rules.
        `also` writes in the same transaction once the use is allowed: decisions/proceed.py
        counts there what the action spends of its budgets (a person approved it, so it
        counts even past a limit)."""
        with self._database.connect() as connection:
            row = blocking_task_of(connection, decision_id)
        if row is None or row.agent_id != agent.id or row.canary_id is not None:
            raise NotFound(f"no review for decision {decision_id}")

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            if row.state != ReviewState.APPROVED.value:
                raise NotApproved(f"the review is {effective_state(row, now).value}")
            if row.used_at is not None:
                raise ApprovalUsed()
            if row.proposal_digest != proposal_digest:
                raise ApprovalMismatch()
            if row.policy_revision != self._pack.revision:
                raise PolicyChanged()
            return _Step(
                "approval_used",
                {"used_at": now},
                {"proposal_digest": proposal_digest},
                also=also,
            )

        review = self._transition(row.id, agent, step)
        assert review.used_at is not None
        return ApprovalUse(
            decision_id=decision_id,
            review_id=review.id,
            proposal_digest=review.proposal_digest,
            policy_revision=review.policy_revision,
            used_at=review.used_at,
        )

    def withdraw(self, decision_id: str, agent: Principal) -> Review:
        """The proposing agent takes its routed proposal back while the review is open: the
        review closes as withdrawn (recorded), and the approval can never be used."""
        with self._database.connect() as connection:
            row = blocking_task_of(connection, decision_id)
        if row is None or row.agent_id != agent.id or row.canary_id is not None:
            raise NotFound(f"no review for decision {decision_id}")

        def step(row: Any, now: datetime, owner_id: str | None) -> _Step:
            if row.state != OPEN:
                raise ReviewClosed(f"the review is already {effective_state(row, now).value}")
            changes = _resolution(ReviewState.WITHDRAWN, agent, now, None)
            return _Step("review_withdrawn", changes, {}, resolves=True)

        return self._transition(row.id, agent, step)

    # -- the SLA clock -----------------------------------------------------------------------

    def apply_timeouts(self, limit: int = 100) -> int:
        """Apply `on_timeout` to blocking reviews past due; returns how many this call moved."""
        now = self._clock()
        with self._database.connect() as connection:
            due = connection.execute(
                select(REVIEW_TASKS.c.id)
                .where(
                    REVIEW_TASKS.c.state == OPEN,
                    REVIEW_TASKS.c.kind == ReviewKind.BLOCKING.value,
                    REVIEW_TASKS.c.due_at <= now,
                )
                .order_by(REVIEW_TASKS.c.due_at)
                .limit(limit)
            ).all()
        moved = 0
        for (review_id,) in due:
            try:
                self._transition(review_id, None, self._timeout_step)
            except (ReviewConflict, ReviewClosed):
                continue  # another process (or a reviewer) got there first
            moved += 1
        return moved

    def _timeout_step(self, row: Any, now: datetime, owner_id: str | None) -> _Step:
        if row.state != OPEN or row.due_at > now:
            raise ReviewClosed("no longer due")
        queue = self._pack.data.queues.get(row.queue)
        if row.on_timeout == TimeoutAction.ESCALATE.value and queue and queue.escalate_to:
            target = self._pack.data.queues[queue.escalate_to]
            due_at = now + self._pack.data.time_box(queue.escalate_to)
            changes = {
                "queue": queue.escalate_to,
                "due_at": due_at,
                "on_timeout": target.on_timeout.value,
                "escalations": row.escalations + 1,
                **_UNCLAIMED,
            }
            details = {"from": row.queue, "to": queue.escalate_to, "due_at": due_at.isoformat()}
            return _Step("review_escalated", changes, details)
        # `deny`, or an escalation whose target is gone from the pack: fail closed.
        changes = {"state": ReviewState.EXPIRED.value, "resolved_at": now}
        changes |= _UNCLAIMED
        return _Step("review_expired", changes, {"due_at": row.due_at.isoformat()}, resolves=True)

    # -- the machinery -----------------------------------------------------------------------

    def _check_reviewer(
        self,
        row: Any,
        actor: Principal,
        owner_id: str | None,
        now: datetime,
        *,
        kind: ReviewKind | None = None,
    ) -> None:
        if not may_review(actor, self._pack.data.queues.get(row.queue)):
            raise NotQueueReviewer(f"this key may not work the queue {row.queue}")
        if four_eyes_violated(actor, agent_id=row.agent_id, owner_id=owner_id):
            raise FourEyes()
        if row.state != OPEN:
            raise ReviewClosed(f"the review is already {row.state}")
        if kind is not None and row.kind != kind.value:
            raise WrongReviewKind()
        if any(a["principal_id"] == actor.id for a in row.approvals):
            raise AlreadyApproved()
        state = effective_state(row, now)
        if state is ReviewState.CLAIMED and row.claimed_by != actor.id:
            raise ClaimedByOther(f"{row.claimed_by_name} holds the claim until {row.lease_until}")

    def _transition(
        self,
        review_id: str,
        actor: Principal | None,
        decide: Callable[[Any, datetime, str | None], _Step],
    ) -> Review:
        now = self._clock()
        with writing(self._database) as connection:
            # Locked, so a racing step waits and then sees this one's result; the version
            # check below still guards any path that reads without the lock.
            row = task_row(connection, review_id, lock=True)
            if row is None:
                raise NotFound(f"no review {review_id}")
            owner_id = owner_of(connection, row.agent_id)
            step = decide(row, now, owner_id)
            changed = connection.execute(
                update(REVIEW_TASKS)
                .where(REVIEW_TASKS.c.id == review_id, REVIEW_TASKS.c.version == row.version)
                .values(**step.changes, version=row.version + 1)
            ).rowcount
            if changed != 1:
                raise ReviewConflict()
            body = {
                "subject": {
                    "agent_id": row.agent_id,
                    "action_type": row.action_type,
                    "risk_tier": row.risk_tier,
                    "policy_revision": row.policy_revision,
                },
                "review": {"id": row.id, "kind": row.kind, "queue": row.queue},
                "actor": _actor(actor) if actor else SLA_CLOCK,
                "details": step.details,
            }
            record(connection, step.kind, now=now, decision_id=row.decision_id, body=body)
            if step.also is not None:
                step.also(connection, now)
            review = as_review(task_row(connection, review_id), now)
            if step.resolves and row.canary_id is not None:
                _record_canary_answer(connection, review, actor, now)
            if step.resolves and self._on_resolved is not None:
                self._on_resolved(connection, review)
        if step.resolves and self._after_resolved is not None:
            self._after_resolved(review)
        return review
