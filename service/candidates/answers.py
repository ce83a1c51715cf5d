"""What the rules answered, and what a candidate pack would: the one comparison impact
replays and shadow runs make.

Budgets are left out on both sides: they are the store's (counted when a decision is
recorded), not the rules', so a replay or a shadow decision never sees them. Two answers
are the same when their outcome and queue are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policy.budgets import BUDGET_RULE_PREFIX, rules_outcome
from policy.context import Agent
from policy.decision import Decision
from policy.gate import Gate
from policy.outcome import Outcome
from policy.proposal import Proposal


@dataclass(frozen=True)
class RulesAnswer:
    """The rules' outcome, the queue it routes to, and the verdicts (rule, outcome) behind it."""

    outcome: Outcome
    queue: str | None
    verdicts: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, decision: Decision) -> RulesAnswer:
        """The rules' answer in a decision (a live one, or a replay's)."""
        queue = decision.review.queue if decision.review else None
        return cls._of(((r.rule, r.outcome) for r in decision.reasons), decision.outcome, queue)

    @classmethod
    def recorded(cls, decision: dict[str, Any]) -> RulesAnswer:
        """The rules' answer in a decision as the audit event records it."""
        review = decision.get("review")
        verdicts = ((r["rule"], Outcome(r["outcome"])) for r in decision["reasons"])
        return cls._of(verdicts, Outcome(decision["outcome"]), review["queue"] if review else None)

    @classmethod
    def _of(
        cls, verdicts: Iterable[tuple[str, Outcome]], outcome: Outcome, queue: str | None
    ) -> RulesAnswer:
        kept = [(rule, o) for rule, o in verdicts if not rule.startswith(BUDGET_RULE_PREFIX)]
        rules = rules_outcome(kept) or outcome
        return cls(
            rules,
            queue if rules is Outcome.ROUTE_TO_HUMAN else None,  # not a budget's routing
            frozenset((rule, o.value) for rule, o in kept),
        )

    def same_as(self, other: RulesAnswer) -> bool:
        """Whether the two would have the agent do the same: outcome and queue."""
        return (self.outcome, self.queue) == (other.outcome, other.queue)


def replay(
    gate: Gate, proposal: Proposal, agent: Agent, sample_rate: float | None = None
) -> RulesAnswer:
    """What the pack behind `gate` answers to `proposal` from `agent`: a recorded proposal
    (impact) or a live one (shadow), at the post-hoc rate that decision recorded."""
    return RulesAnswer.of(gate.decide(proposal, agent, sample_rate=sample_rate))
