"""The versioned audit event of a decision and the hash that chains events together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sluicegate_native

from policy.context import Agent
from policy.decision import Decision
from policy.masking import mask
from policy.proposal import Proposal

EVENT_VERSION = 1
GENESIS_HASH = "sha256:" + "0" * 64


def canonical(document: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes that are hashed and stored. The compiled core writes
    them (17x faster than the `rfc8785` package, whose bytes it equals: tests/native/)."""
    return sluicegate_native.canonical_json(document)


# The largest integer an IEEE double holds exactly: RFC 8785 numbers are doubles.
MAX_SAFE_INTEGER = 2**53 - 1


def digest(document: Any) -> str:
    """sha256 of a document's canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def chain_hash(prev_hash: str, event_bytes: bytes) -> str:
    """hash = sha256(prev_hash ‖ canonical JSON of the event)."""
    return "sha256:" + hashlib.sha256(prev_hash.encode() + event_bytes).hexdigest()


def decision_event(
    *,
    event_id: str,
    proposal: Proposal,
    agent: Agent,
    decision: Decision,
    recorded_at: datetime,
    mask_paths: Sequence[str] = (),
    document: dict[str, Any] | None = None,
    proposal_digest: str | None = None,
) -> dict[str, Any]:
    """The `decision` event (version 1): what was asked, by whom, what was answered and why.

    The proposal is stored masked; its digest is of the unmasked proposal, so evidence held
    elsewhere can still be matched, and `erased` lists the pointers whose values were dropped.
    A caller that already has the proposal's document and digest passes them in.
    """
    document = document if document is not None else proposal.document()
    masked, erased = mask(document, mask_paths)
    return {
        "version": EVENT_VERSION,
        "kind": "decision",
        "event_id": event_id,
        "recorded_at": recorded_at.isoformat(),
        # The scopes of the key it used: a replay (rules impact) decides with the same ones.
        "agent": {"id": agent.id, "name": agent.name, "scopes": list(agent.scopes)},
        "proposal": masked,
        "proposal_digest": proposal_digest or digest(document),
        "erased": erased,
        # The permit is a bearer credential for the target system: never in the log.
        "decision": decision.model_dump(mode="json", exclude={"audit", "permit"}),
    }
