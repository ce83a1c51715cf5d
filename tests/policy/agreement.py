"""What two Rego engines must agree on, and the report when they do not."""

from __future__ import annotations

import json
from typing import Any

from policy.context import Agent
from policy.decision import Decision
from policy.proposal import Proposal

ENVIRONMENTS = ("sandbox", "staging", "production")
AGENT = Agent(id="conformance", name="conformance", scopes=("*",))


def engine_view(decision: Decision) -> dict[str, Any]:
    """What the engine decides; ids, times and the sample draw (from the id) are left out."""
    return {
        "outcome": decision.outcome.value,
        "risk_tier": decision.risk_tier,
        "reversibility": decision.reversibility.value,
        "queue": decision.review.queue if decision.review else None,
        "fail_closed": decision.fail_closed.cause.value if decision.fail_closed else None,
        "sample_rate": decision.sample.rate if decision.sample else None,
        "reasons": sorted(
            (r.rule, r.outcome.value, r.message)
            for r in decision.reasons
            if not r.rule.startswith("fail_closed.")
        ),
    }


def divergence(proposal: Proposal, embedded: Decision, opa: Decision) -> str | None:
    """A report for the reader, or None when the engines agree."""
    left, right = engine_view(embedded), engine_view(opa)
    if left == right:
        return None
    rules = sorted({r[0] for r in set(left["reasons"]) ^ set(right["reasons"])})
    return "\n".join(
        [
            "the Rego engines disagree",
            f"rules involved: {rules or 'none (the combination differs)'}",
            f"proposal: {json.dumps(proposal.document(), sort_keys=True)}",
            f"rego-embedded: {json.dumps(left, sort_keys=True)}",
            f"opa:           {json.dumps(right, sort_keys=True)}",
        ]
    )
