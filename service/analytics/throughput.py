"""Throughput: whether agents move work or only create motion, per action or work item type.

For the decisions made in a window: counts by outcome and by status now, cycle time
(proposed → verified), time waiting on people (routed → resolved), first-pass approval and
reject rates, SLA breaches, the post-hoc "should not have happened" rate, and items stuck in
a non-final status for longer than a threshold.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, select

from service.audit.tables import AUDIT_EVENTS
from service.decisions.status import ActionStatus, status_of
from service.decisions.tables import DECISIONS
from service.reviews.tables import REVIEW_TASKS
from service.reviews.tasks import OPEN

GroupBy = Literal["action_type", "work_item_type"]
FINAL = frozenset(
    {
        ActionStatus.DENIED,
        ActionStatus.REJECTED,
        ActionStatus.EXPIRED,
        ActionStatus.FAILED,
        ActionStatus.VERIFIED,
        ActionStatus.ROLLED_BACK,
    }
)


class Indicators(BaseModel):
    """The indicators of one group (or of all)."""

    key: str
    decisions: int
    by_outcome: dict[str, int]
    by_status: dict[str, int]
    cycle_time_p50_seconds: float | None
    cycle_time_p90_seconds: float | None
    human_wait_p50_seconds: float | None
    human_wait_p90_seconds: float | None
    first_pass_approval_rate: float | None
    reject_rate: float | None
    sla_breaches: int
    post_hoc_reviewed: int
    should_not_have_happened_rate: float | None
    stuck: int
    # Reviewed actions (a person approved or rejected them) that needed a revision, and
    # those approved as first proposed: the share of agent changes accepted without rework.
    rework_rate: float | None = None
    accepted_without_rework_rate: float | None = None
    # Rejections and "should not have happened" findings by cause (older ones count other),
    # with the rules and action types most often behind an ambiguous spec.
    incidents_by_cause: dict[str, int] = {}
    ambiguous_spec_rules: dict[str, int] = {}
    ambiguous_spec_action_types: dict[str, int] = {}
    # The agent's own compute per action (from its outcome reports), beside the human wait.
    agent_compute_p50_seconds: float | None = None


class Throughput(BaseModel):
    """The indicators per group over a window, and for all groups together."""

    since: datetime
    until: datetime
    group_by: GroupBy
    stuck_after_seconds: float
    groups: list[Indicators]
    total: Indicators


@dataclass(frozen=True)
class _Action:
    """One decision in the window, with what became of it."""

    key: str
    outcome: str
    status: ActionStatus
    proposed_at: datetime
    verified_at: datetime | None
    tasks: tuple[Any, ...]
    decision_id: str = ""
    action_type: str = ""
    work_item: str | None = None
    revises: str | None = None
    rules: tuple[str, ...] = ()
    compute_seconds: float | None = None


@dataclass(frozen=True)
class _Rework:
    """Across the window: the decisions a later proposal revised, and the revisions."""

    revised: frozenset[str]
    revisions: frozenset[str]

    @classmethod
    def of(cls, actions: Sequence[_Action]) -> _Rework:
        """Explicit (`revises`) and implicit: the same work item's same action type proposed
        again after a rejection."""
        revised = {a.revises for a in actions if a.revises}
        revisions = {a.decision_id for a in actions if a.revises}
        rejected_last: dict[tuple[str, str], str] = {}
        for action in sorted(actions, key=lambda a: a.proposed_at):
            if action.work_item is None:
                continue
            key = (action.work_item, action.action_type)
            if key in rejected_last:
                revised.add(rejected_last.pop(key))
                revisions.add(action.decision_id)
            if _decided_state(action) == "rejected":
                rejected_last[key] = action.decision_id
        return cls(frozenset(revised), frozenset(revisions))


def throughput(
    database: Engine,
    *,
    since: datetime,
    until: datetime,
    group_by: GroupBy,
    stuck_after: timedelta,
    now: datetime,
) -> Throughput:
    """The indicators for decisions made in [since, until)."""
    with database.connect() as connection:
        actions = _actions(connection, since, until, group_by)
    grouped: dict[str, list[_Action]] = defaultdict(list)
    for action in actions:
        grouped[action.key].append(action)
    rework = _Rework.of(actions)
    return Throughput(
        since=since,
        until=until,
        group_by=group_by,
        stuck_after_seconds=stuck_after.total_seconds(),
        groups=[_indicators(k, grouped[k], stuck_after, now, rework) for k in sorted(grouped)],
        total=_indicators("all", actions, stuck_after, now, rework),
    )


def _actions(
    connection: Connection, since: datetime, until: datetime, group_by: GroupBy
) -> list[_Action]:
    window = and_(DECISIONS.c.created_at >= since, DECISIONS.c.created_at < until)
    rows = connection.execute(
        select(
            DECISIONS.c.decision_id,
            DECISIONS.c.action_type,
            DECISIONS.c.outcome,
            DECISIONS.c.created_at,
            DECISIONS.c.lifecycle_status,
            DECISIONS.c.lifecycle_at,
            DECISIONS.c.agent_duration_ms,
            AUDIT_EVENTS.c.event,
        )
        .join(
            AUDIT_EVENTS,
            and_(
                AUDIT_EVENTS.c.decision_id == DECISIONS.c.decision_id,
                AUDIT_EVENTS.c.kind == "decision",
            ),
        )
        .where(window)
    ).all()
    tasks: dict[str, list[Any]] = defaultdict(list)
    for task in connection.execute(
        select(REVIEW_TASKS)
        .join(DECISIONS, DECISIONS.c.decision_id == REVIEW_TASKS.c.decision_id)
        .where(window)
    ).all():
        tasks[task.decision_id].append(task)
    return [_action(row, tuple(tasks[row.decision_id]), group_by) for row in rows]


def _action(row: Any, tasks: tuple[Any, ...], group_by: GroupBy) -> _Action:
    event = json.loads(row.event)
    proposal = event["proposal"]
    work_item = proposal.get("work_item") or {}
    key = row.action_type if group_by == "action_type" else work_item.get("type") or "(none)"
    blocking = next((t for t in tasks if t.kind == "blocking"), None)
    review_state = None if blocking is None or blocking.state == OPEN else blocking.state
    status = status_of(row.outcome, review_state, row.lifecycle_status)
    verified_at = row.lifecycle_at if status is ActionStatus.VERIFIED else None
    duration = row.agent_duration_ms
    return _Action(
        key,
        row.outcome,
        status,
        row.created_at,
        verified_at,
        tasks,
        decision_id=row.decision_id,
        action_type=row.action_type,
        work_item=work_item.get("id"),
        revises=proposal.get("revises"),
        rules=tuple(reason["rule"] for reason in event["decision"]["reasons"]),
        compute_seconds=duration / 1000 if duration is not None else None,
    )


def _decided_state(action: _Action) -> str | None:
    """approved or rejected when a person decided the action's blocking review."""
    blocking = next((t for t in action.tasks if t.kind == "blocking"), None)
    if blocking is None or blocking.state not in ("approved", "rejected"):
        return None
    return str(blocking.state)


def _incidents(actions: list[_Action]) -> list[tuple[_Action, str]]:
    """Each rejection and "should not have happened" finding, with its cause."""
    found = []
    for action in actions:
        for task in action.tasks:
            rejected = task.kind == "blocking" and task.state == "rejected"
            finding = task.kind == "post_hoc" and task.verdict == "should_not_have_happened"
            if rejected or finding:
                found.append((action, task.cause or "other"))
    return found


def _indicators(
    key: str, actions: list[_Action], stuck_after: timedelta, now: datetime, rework: _Rework
) -> Indicators:
    blocking = [t for a in actions for t in a.tasks if t.kind == "blocking"]
    resolved = [t for t in blocking if t.resolved_at is not None]
    post_hoc = [t for a in actions for t in a.tasks if t.kind == "post_hoc" and t.verdict]
    cycle = [(a.verified_at - a.proposed_at).total_seconds() for a in actions if a.verified_at]
    waits = [(t.resolved_at - t.created_at).total_seconds() for t in resolved]
    decided = [t for t in resolved if t.state in ("approved", "rejected")]
    return Indicators(
        key=key,
        decisions=len(actions),
        by_outcome=dict(Counter(a.outcome for a in actions)),
        by_status=dict(Counter(a.status.value for a in actions)),
        cycle_time_p50_seconds=_percentile(cycle, 50),
        cycle_time_p90_seconds=_percentile(cycle, 90),
        human_wait_p50_seconds=_percentile(waits, 50),
        human_wait_p90_seconds=_percentile(waits, 90),
        first_pass_approval_rate=_rate(
            sum(1 for t in decided if t.state == "approved" and t.escalations == 0), len(decided)
        ),
        reject_rate=_rate(sum(1 for t in decided if t.state == "rejected"), len(decided)),
        sla_breaches=sum(1 for t in blocking if t.state == "expired" or t.escalations > 0),
        post_hoc_reviewed=len(post_hoc),
        should_not_have_happened_rate=_rate(
            sum(1 for t in post_hoc if t.verdict == "should_not_have_happened"), len(post_hoc)
        ),
        stuck=sum(
            1 for a in actions if a.status not in FINAL and now - a.proposed_at > stuck_after
        ),
        **_rework_indicators(actions, rework),
    )


def _rework_indicators(actions: list[_Action], rework: _Rework) -> dict[str, Any]:
    reviewed = [a for a in actions if _decided_state(a) is not None]
    first_time = [
        a
        for a in reviewed
        if _decided_state(a) == "approved" and a.decision_id not in rework.revisions
    ]
    incidents = _incidents(actions)
    unclear = [action for action, cause in incidents if cause == "ambiguous_spec"]
    return {
        "rework_rate": _rate(sum(a.decision_id in rework.revised for a in reviewed), len(reviewed)),
        "accepted_without_rework_rate": _rate(len(first_time), len(reviewed)),
        "incidents_by_cause": dict(Counter(cause for _, cause in incidents)),
        "ambiguous_spec_rules": dict(Counter(r for a in unclear for r in a.rules).most_common(5)),
        "ambiguous_spec_action_types": dict(Counter(a.action_type for a in unclear).most_common(5)),
        "agent_compute_p50_seconds": _percentile(
            (a.compute_seconds for a in actions if a.compute_seconds is not None), 50
        ),
    }


def _percentile(values: Iterable[float], percent: int) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1]


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
