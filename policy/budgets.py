"""Budgets: which of the pack's budgets an action counts against, how much, and the verdict
when it would pass the limit. The counting itself needs the store: the service adds up what
was spent, in the transaction that records the decision (service/decisions/budgets.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from policy.decision import Reason
from policy.outcome import Outcome, most_severe
from policy.pack_data import Budget, BudgetScope, PackData
from policy.proposal import Proposal

COUNT_UNIT = "actions"
# The outcomes that let the agent act now, and so spend: the one definition, for the store's
# counting (service/decisions/budgets.py) and for replays (service/candidates/impact.py).
SPENDING = frozenset({Outcome.ALLOW, Outcome.SAMPLE})
# A budget's verdict is named `budget.<name>`: the store decides it, not the rules.
BUDGET_RULE_PREFIX = "budget."


@dataclass(frozen=True)
class Charge:
    """What one action spends of one budget: `amount` in `unit` (a currency, or actions).
    An amount in a currency the budget does not list is infinite: it counts as over."""

    budget: str
    unit: str
    amount: float
    per: BudgetScope
    window_seconds: float
    limit: float

    def exceeds(self, spent: float) -> bool:
        """Whether spending this after `spent` (in the window) would pass the limit."""
        return math.isinf(self.amount) or spent + self.amount > self.limit


def _matches(budget: Budget, proposal: Proposal, data: PackData) -> bool:
    action = proposal.action
    entry = data.catalog.get(action.type)
    if budget.action_types and not any(fnmatchcase(action.type, p) for p in budget.action_types):
        return False
    if budget.effects and (entry is None or entry.effect not in budget.effects):
        return False
    if budget.customer_facing is not None:
        facing = bool(action.customer_facing) or bool(entry and entry.customer_facing)
        if facing != budget.customer_facing:
            return False
    return True


def charges(data: PackData, proposal: Proposal) -> tuple[Charge, ...]:
    """The budgets this action counts against, with what it spends of each."""
    found = []
    for name, budget in data.budgets.items():
        if not _matches(budget, proposal, data):
            continue
        window = budget.window.total_seconds()
        if budget.count is not None:
            found.append(Charge(name, COUNT_UNIT, 1, budget.per, window, budget.count))
            continue
        assert budget.limit is not None
        amount = proposal.action.amount
        if amount is None:
            continue  # nothing to count: the catalog's required fields catch a missing amount
        limit = budget.limit.get(amount.currency)
        if limit is None:
            first = next(iter(budget.limit))
            found.append(Charge(name, first, math.inf, budget.per, window, budget.limit[first]))
        else:
            found.append(Charge(name, amount.currency, amount.value, budget.per, window, limit))
    return tuple(found)


def spending(data: PackData, proposal: Proposal, outcome: Outcome) -> tuple[Charge, ...]:
    """What an action decided `outcome` spends: its charges when the outcome lets the agent
    act now, nothing otherwise."""
    return charges(data, proposal) if outcome in SPENDING else ()


def over_budget(data: PackData, charge: Charge, spent: float) -> Reason:
    """The verdict of a budget this action would pass: its name, what was spent, the limit."""
    budget = data.budgets[charge.budget]
    whose = "this agent" if charge.per is BudgetScope.AGENT else "this owner's agents"
    window = _duration(charge.window_seconds)
    if charge.unit == COUNT_UNIT:
        message = (
            f"budget {charge.budget}: {whose} did {spent:,.0f} of {charge.limit:,.0f} "
            f"allowed actions in the last {window}"
        )
    elif math.isinf(charge.amount):
        message = (
            f"budget {charge.budget}: the limit is in {', '.join(budget.limit or {})}; "
            "an amount in another currency counts as over"
        )
    else:
        message = (
            f"budget {charge.budget}: {whose} spent {spent:,.2f} {charge.unit} in the last "
            f"{window}; {charge.amount:,.2f} more would pass the limit of "
            f"{charge.limit:,.2f} {charge.unit}"
        )
    rule = f"{BUDGET_RULE_PREFIX}{charge.budget}"
    return Reason(rule=rule, outcome=budget.when_exceeded, message=message)


def rules_outcome(verdicts: Iterable[tuple[str, Outcome]]) -> Outcome | None:
    """The most severe outcome of the rules' own verdicts (rule, outcome), budgets' left
    out: what replays and shadow runs compare, since budgets depend on the store."""
    return most_severe(o for rule, o in verdicts if not rule.startswith(BUDGET_RULE_PREFIX))


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 1 and hours.is_integer():
        return f"{hours:.0f} h"
    return f"{seconds / 60:.0f} min"
