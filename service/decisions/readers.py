"""Who may read a decision (and its status, review and trace): the agent that proposed it,
that agent's accountable owner, reviewers of a queue it was routed to, and auditors.
Anyone else is told it does not exist, the same answer as for a decision that does not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from policy.rule_pack import RulePack
from service.auth.principals import Principal, owner_of
from service.auth.roles import Role
from service.reviews.eligibility import may_review
from service.reviews.tasks import queues_of

# Roles that read every decision: auditors, and admins, who hold the auditor's rights.
READ_ANY = frozenset({Role.AUDITOR, Role.ADMIN})


def may_read_decision(
    connection: Connection, pack: RulePack, principal: Principal, agent_id: str, decision_id: str
) -> bool:
    """Whether `principal` may read the decision `decision_id`, proposed by `agent_id`."""
    if principal.role in READ_ANY or principal.id == agent_id:
        return True
    owner = owner_of(connection, agent_id)
    if owner is not None and owner == principal.id:
        return True
    if principal.role is not Role.REVIEWER:
        return False
    queues = queues_of(connection, decision_id)
    return any(may_review(principal, pack.data.queues.get(queue)) for queue in queues)


def readable_row(connection: Connection, pack: RulePack, principal: Principal, row: Any) -> bool:
    """`may_read_decision` for a stored decision row."""
    return may_read_decision(connection, pack, principal, row.principal_id, row.decision_id)
