"""What auditors filter on, copied out of an event so queries can use indexes.

Everything comes from the stored (already masked) event document, so the index can always
be rebuilt from the chain and never holds a value the chain does not; verification
(`audit/verify.py`) rebuilds it for every event and compares, since queries trust it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# Events that record a proposal and its decision: a real one, or a known-answer check's.
DECIDED = frozenset({"decision", "canary"})

# The columns stored beside each event, all derived from it (`stored_index`).
INDEX_COLUMNS = (
    "event_id",
    "kind",
    "decision_id",
    "recorded_at",
    "agent_id",
    "action_type",
    "outcome",
    "risk_tier",
    "policy_revision",
    "work_item_id",
    "queue",
)


def index_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns of one event (None where the event does not say)."""
    if document.get("kind") in DECIDED:
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
    if document.get("kind") not in DECIDED:
        return []
    return sorted({reason["rule"] for reason in document.get("decision", {}).get("reasons", [])})


def stored_index(document: dict[str, Any]) -> dict[str, Any]:
    """Everything the store keeps beside an event, as the event itself says it: the columns
    of `INDEX_COLUMNS` (the time as an aware datetime) and the rules of the rule index."""
    decision = document.get("decision") if document.get("kind") in DECIDED else None
    decision_id = document.get("decision_id") or (decision or {}).get("decision_id")
    return {
        "event_id": document.get("event_id"),
        "kind": document.get("kind"),
        "decision_id": decision_id,
        "recorded_at": _moment(document.get("recorded_at")),
        **index_columns(document),
        "rules": rules_named(document),
    }


def index_mismatch(stored: dict[str, Any], document: dict[str, Any]) -> str | None:
    """The first stored column that differs from what the event says, described; None when
    they all agree. `stored` holds the columns of `INDEX_COLUMNS` and the rules."""
    expected = stored_index(document)
    for column in (*INDEX_COLUMNS, "rules"):
        found = stored.get(column)
        if column == "recorded_at":
            found = _moment(found)
        if found != expected[column]:
            return (
                f"its index column {column} holds {found!r} but the event says "
                f"{expected[column]!r}: the index was edited"
            )
    return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if isinstance(value, str) else None
