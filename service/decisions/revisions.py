"""A proposal may revise an earlier decision (`revises`, after a rejection): only one of the
same agent's, about the same work item. Throughput counts it as rework."""

from __future__ import annotations

import json

from sqlalchemy import Engine, and_, select

from policy.proposal import Proposal
from service.audit.tables import AUDIT_EVENTS
from service.auth.principals import Principal
from service.decisions.tables import DECISIONS
from service.errors import InvalidRevision


def check_revision(database: Engine, proposal: Proposal, agent: Principal) -> None:
    """InvalidRevision unless `revises` names a decision of this agent on this work item."""
    if proposal.revises is None:
        return
    with database.connect() as connection:
        row = connection.execute(
            select(DECISIONS.c.principal_id, AUDIT_EVENTS.c.event)
            .join(
                AUDIT_EVENTS,
                and_(
                    AUDIT_EVENTS.c.decision_id == DECISIONS.c.decision_id,
                    AUDIT_EVENTS.c.kind == "decision",
                ),
            )
            .where(DECISIONS.c.decision_id == proposal.revises)
        ).first()
    if row is None or row.principal_id != agent.id:
        raise InvalidRevision(f"this agent has no decision {proposal.revises} to revise")
    earlier = json.loads(row.event)["proposal"].get("work_item") or {}
    if proposal.work_item is None or earlier.get("id") != proposal.work_item.id:
        raise InvalidRevision("a revision is about the work item of the decision it revises")
