"""What auditors filter on, copied out of an event so queries can use indexes.

Everything comes from the stored (already masked) event document, so the index can always
be rebuilt from the chain and never holds a value the chain does not.
"""

from __future__ import annotations

from typing import Any


def index_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns of one event (None where the event does not say)."""
    if document.get("kind") == "decision":
        decision = document.get("decision", {})
        proposal = document.get("proposal", {})
        review = decision.get("review") or {}
        work_item = proposal.get("work_item") or {}
        return {
            "agent_id": document.get("agent", {}).get("id"),
            "action_type": proposal.get("action", {}).get("type"),
            "outcome": decision.get("outcome"),
            "risk_tier": decision.get("risk_tier"),
            "policy_revision": (decision.get("policy") or {}).get("revision"),
            "work_item_id": work_item.get("id"),
            "queue": review.get("queue"),
        }
    subject = document.get("subject") or {}  # review steps, outcomes, pack activations
    return {
        "agent_id": subject.get("agent_id"),
        "action_type": subject.get("action_type"),
        "outcome": None,
        "risk_tier": subject.get("risk_tier"),
        "policy_revision": subject.get("policy_revision"),
        "work_item_id": None,
        "queue": (document.get("review") or {}).get("queue"),
    }


def rules_named(document: dict[str, Any]) -> list[str]:
    """The rules that gave a verdict in a decision event (none for other events)."""
    if document.get("kind") != "decision":
        return []
    return sorted({reason["rule"] for reason in document.get("decision", {}).get("reasons", [])})
