"""Opening review tasks from decisions, and reading them back as `Review` values."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, select

from policy.decision import Decision
from policy.outcome import Outcome
from policy.rule_pack import RulePack
from service.reviews.models import Review, ReviewKind, ReviewState
from service.reviews.tables import REVIEW_TASKS
from service.store.driver import BulkInsert

# A post-hoc review cannot time out into anything: the action already happened.
NO_TIMEOUT = "none"
OPEN = "open"
# The states only a person's step reaches (expired is the SLA clock's).
RESOLVED_BY_PEOPLE = ("approved", "rejected", "reviewed")


def opening_task(
    decision: Decision,
    *,
    agent_id: str,
    proposal_digest: str,
    action_type: str,
    pack: RulePack,
    now: datetime,
) -> dict[str, Any] | None:
    """The review row a decision opens: blocking when routed, post-hoc when sampled and picked."""
    base = {
        "decision_id": decision.decision_id,
        "state": OPEN,
        "agent_id": agent_id,
        "action_type": action_type,
        "risk_tier": decision.risk_tier,
        "proposal_digest": proposal_digest,
        "policy_revision": decision.policy.revision,
        "approvals": [],
        "escalations": 0,
        "version": 0,
        "created_at": now,
    }
    if decision.outcome is Outcome.ROUTE_TO_HUMAN and decision.review is not None:
        review = decision.review
        return base | {
            "id": review.id,
            "kind": ReviewKind.BLOCKING.value,
            "queue": review.queue,
            "approvals_required": review.approvals_required,
            "due_at": review.due_at,
            "on_timeout": review.on_timeout.value,
        }
    if decision.sample is not None and decision.sample.selected:
        queue_name = pack.data.catalog[action_type].owner_queue
        return base | {
            "id": str(uuid_utils.uuid7()),
            "kind": ReviewKind.POST_HOC.value,
            "queue": queue_name,
            "approvals_required": 1,
            "due_at": now + pack.data.time_box(queue_name, action_type),
            "on_timeout": NO_TIMEOUT,
        }
    return None


_INSERT_TASKS = BulkInsert(REVIEW_TASKS)


def open_tasks(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the review rows decisions opened (`opening_task`), in the caller's transaction."""
    _INSERT_TASKS.run(connection, rows)


def effective_state(row: Any, now: datetime) -> ReviewState:
    """The stored state, with an open review split by whether its claim's lease is live."""
    if row.state != OPEN:
        return ReviewState(row.state)
    if row.claimed_by is not None and row.lease_until is not None and row.lease_until > now:
        return ReviewState.CLAIMED
    return ReviewState.PENDING


def as_review(row: Any, now: datetime) -> Review:
    """A stored review row as the public `Review`."""
    state = effective_state(row, now)
    claimed = state is ReviewState.CLAIMED
    return Review.model_validate(
        dict(row._mapping)
        | {
            "state": state,
            "claimed_by": row.claimed_by_name if claimed else None,
            "lease_until": row.lease_until if claimed else None,
            "canary": getattr(row, "canary_id", None) is not None,
        }
    )


def task_row(connection: Connection, review_id: str, *, lock: bool = False) -> Any:
    """The stored row of a review, or None; `lock` holds the row until the transaction ends
    (`FOR UPDATE` on PostgreSQL; SQLite's write transaction already holds the database)."""
    query = select(REVIEW_TASKS).where(REVIEW_TASKS.c.id == review_id)
    return connection.execute(query.with_for_update() if lock else query).first()


def blocking_task_of(connection: Connection, decision_id: str) -> Any:
    """The blocking review a decision opened, or None."""
    return connection.execute(
        select(REVIEW_TASKS).where(
            REVIEW_TASKS.c.decision_id == decision_id,
            REVIEW_TASKS.c.kind == ReviewKind.BLOCKING.value,
        )
    ).first()


def blocking_tasks_of(connection: Connection, decision_ids: list[str]) -> dict[str, Any]:
    """The blocking review rows of these decisions, by decision id."""
    if not decision_ids:
        return {}
    rows = connection.execute(
        select(REVIEW_TASKS).where(
            REVIEW_TASKS.c.decision_id.in_(decision_ids),
            REVIEW_TASKS.c.kind == ReviewKind.BLOCKING.value,
        )
    ).all()
    return {str(row.decision_id): row for row in rows}


def queues_of(connection: Connection, decision_id: str) -> list[str]:
    """The queues a decision's reviews are (or were) in."""
    return list(
        connection.execute(
            select(REVIEW_TASKS.c.queue).where(REVIEW_TASKS.c.decision_id == decision_id)
        ).scalars()
    )


def resolved_per_queue(connection: Connection, *, since: datetime, until: datetime) -> Counter[str]:
    """How many reviews people resolved in each queue in [since, until)."""
    rows = connection.execute(
        select(REVIEW_TASKS.c.queue).where(
            REVIEW_TASKS.c.resolved_by.is_not(None),
            REVIEW_TASKS.c.canary_id.is_(None),  # real work only
            REVIEW_TASKS.c.state.in_(RESOLVED_BY_PEOPLE),
            REVIEW_TASKS.c.resolved_at >= since,
            REVIEW_TASKS.c.resolved_at < until,
        )
    ).all()
    return Counter(str(row.queue) for row in rows)


def post_hoc_verdicts(connection: Connection, *, since: datetime) -> list[Any]:
    """The post-hoc reviews closed with a verdict since `since`: their decision, action type,
    tier and verdict (what adaptive sampling learns from)."""
    return list(
        connection.execute(
            select(
                REVIEW_TASKS.c.decision_id,
                REVIEW_TASKS.c.action_type,
                REVIEW_TASKS.c.risk_tier,
                REVIEW_TASKS.c.verdict,
            ).where(
                REVIEW_TASKS.c.kind == ReviewKind.POST_HOC.value,
                REVIEW_TASKS.c.verdict.is_not(None),
                REVIEW_TASKS.c.resolved_at >= since,
            )
        ).all()
    )
