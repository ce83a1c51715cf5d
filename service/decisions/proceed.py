"""Using an approval: the agent sends the approved proposal again, and may act once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import Connection

from policy.budgets import charges as budget_charges
from policy.proposal import Proposal
from policy.rule_pack import RulePack
from service.audit.event import digest
from service.auth.principals import Principal
from service.decisions import budgets
from service.permits.signer import PermitSigner
from service.reviews.desk import ReviewDesk
from service.reviews.models import ApprovalUse


async def proceed(
    decision_id: str,
    agent: Principal,
    proposal: Proposal,
    *,
    desk: ReviewDesk,
    permits: PermitSigner,
    pack: RulePack,
) -> ApprovalUse:
    """Spend the decision's approval, if `proposal` is exactly what was approved under the
    rules in force; the review desk records the use on the chain, and counts what the action
    spends of its budgets. The answer carries the permit for the target system."""
    charges = budget_charges(pack.data, proposal)

    def spend(connection: Connection, now: datetime) -> None:
        budgets.count(connection, charges, agent.id, decision_id, now)

    use = await asyncio.to_thread(
        desk.use_approval, decision_id, agent, digest(proposal.document()), also=spend
    )
    permit = permits.issue(
        agent_id=agent.id,
        proposal=proposal,
        decision_id=decision_id,
        revision=use.policy_revision,
        issued_at=use.used_at,  # so it expires a known time after the use (`outcomes.py`)
    )
    return use.model_copy(update={"permit": permit.token})
