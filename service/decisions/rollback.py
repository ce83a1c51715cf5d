"""What to roll back if a rule (or a pack, or an agent) was wrong: the executed actions whose
decisions match an auditor's filter, with what undoing each would touch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine

from service.audit.query import EventFilter, event_of_row, selection
from service.audit.tables import AUDIT_EVENTS
from service.decisions.status import ActionStatus
from service.decisions.tables import DECISIONS

_ROLLBACK_STATUSES = (ActionStatus.EXECUTED.value, ActionStatus.VERIFIED.value)
MAX_CANDIDATES = 10_000


class RollbackCandidate(BaseModel):
    """An executed action, with what undoing it would touch."""

    decision_id: str
    action_type: str
    agent_id: str | None
    status: str
    reversibility: str
    target: str | None
    environment: str | None
    changes: list[dict[str, Any]]
    work_item: str | None
    policy_revision: str
    rules: list[str]
    decided_at: str
    executed_at: datetime | None
    artifact: dict[str, Any] | None


def rollback_candidates(database: Engine, wanted: EventFilter) -> list[RollbackCandidate]:
    """Executed (or verified) actions whose decisions match the filter, oldest first."""
    decisions_only = wanted.model_copy(update={"kind": "decision"})
    query = (
        selection(decisions_only)
        .add_columns(DECISIONS.c.lifecycle_status, DECISIONS.c.lifecycle_at, DECISIONS.c.artifact)
        .join(DECISIONS, DECISIONS.c.decision_id == AUDIT_EVENTS.c.decision_id)
        .where(DECISIONS.c.lifecycle_status.in_(_ROLLBACK_STATUSES))
        .limit(MAX_CANDIDATES)
    )
    with database.connect() as connection:
        return [_candidate(row) for row in connection.execute(query).all()]


def _candidate(row: Any) -> RollbackCandidate:
    event = event_of_row(row).event
    proposal, decision = event["proposal"], event["decision"]
    action = proposal["action"]
    return RollbackCandidate(
        decision_id=decision["decision_id"],
        action_type=action["type"],
        agent_id=event.get("agent", {}).get("id"),
        status=row.lifecycle_status,
        reversibility=decision["reversibility"],
        target=action.get("target"),
        environment=action.get("environment"),
        changes=proposal.get("changes", []),
        work_item=(proposal.get("work_item") or {}).get("id"),
        policy_revision=decision["policy"]["revision"],
        rules=sorted({r["rule"] for r in decision["reasons"]}),
        decided_at=decision["decided_at"],
        executed_at=row.lifecycle_at,
        artifact=row.artifact,
    )
