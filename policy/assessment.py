"""Risk tier and reversibility of a proposal, from the action catalog and the rule data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from policy.pack_data import CatalogEntry, Effect, Limits, Reversibility
from policy.proposal import Money, Proposal

_NO_RISK_EFFECTS = frozenset({Effect.READ, Effect.DRAFT})


class Assessment(BaseModel):
    """What the gate knows about an action before any rule runs; rules read it as input."""

    model_config = ConfigDict(frozen=True)

    risk_tier: int
    reversibility: Reversibility
    effect: Effect
    customer_facing: bool
    over_limit: bool
    regulated_data: bool
    personal_data: bool
    owner_queue: str


def over_limit(amount: Money | None, limit_by_currency: dict[str, float]) -> bool:
    """True when the amount exceeds the limit of its currency (or none is set for it)."""
    if amount is None:
        return False
    limit = limit_by_currency.get(amount.currency)
    return limit is None or amount.value > limit


def over_autonomous_limit(amount: Money | None, limits: Limits) -> bool:
    """True when the amount exceeds the autonomous limit of its currency (or none is set)."""
    return over_limit(amount, limits.autonomous_limit)


def approvals_required(proposal: Proposal, risk_tier: int, limits: Limits) -> int:
    """Distinct approvers a routed action needs: two for tier 3 above the second threshold."""
    if risk_tier == 3 and limits.two_approver_limit:
        return 2 if over_limit(proposal.action.amount, limits.two_approver_limit) else 1
    return 1


def assess(proposal: Proposal, entry: CatalogEntry, limits: Limits) -> Assessment:
    """Apply the tier definitions; the catalog's reversibility overrides the agent's claim."""
    action = proposal.action
    reversibility = entry.reversibility
    if entry.reversibility is Reversibility.REVERSIBLE and action.reversible is False:
        # An agent may make an action more dangerous than the catalog thinks, never less.
        reversibility = Reversibility.IRREVERSIBLE
    customer_facing = entry.customer_facing or bool(action.customer_facing)
    classes = set(action.data_classes)
    regulated = bool(classes & limits.regulated_data_classes)
    personal = bool(classes & limits.personal_data_classes)
    over_limit = over_autonomous_limit(action.amount, limits)
    irreversible = reversibility is Reversibility.IRREVERSIBLE

    if entry.effect in _NO_RISK_EFFECTS:
        tier = 0
    elif (irreversible and (over_limit or customer_facing)) or regulated:
        tier = 3
    elif customer_facing or action.amount is not None or personal:
        tier = 2
    else:
        tier = 1
    return Assessment(
        risk_tier=tier,
        reversibility=reversibility,
        effect=entry.effect,
        customer_facing=customer_facing,
        over_limit=over_limit,
        regulated_data=regulated,
        personal_data=personal,
        owner_queue=entry.owner_queue,
    )
