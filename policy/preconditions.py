"""Checks that run before any rule: scope, catalog, required fields, sources, confidence."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from policy.fail_closed import FailClosed, FailClosedCause
from policy.pack_data import CatalogEntry, Limits
from policy.proposal import Proposal


def out_of_scope(action_type: str, scopes: Iterable[str]) -> FailClosed | None:
    """The agent's key allows action types by glob pattern (`crm.*`); anything else is denied."""
    patterns = list(scopes)
    if any(fnmatchcase(action_type, pattern) for pattern in patterns):
        return None
    return FailClosed(
        cause=FailClosedCause.AGENT_OUT_OF_SCOPE,
        detail=f"the agent's key allows {patterns or 'no action types'}, not {action_type!r}",
    )


def unknown_action(action_type: str, entry: CatalogEntry | None) -> FailClosed | None:
    """An action type the catalog does not know cannot be assessed."""
    if entry is not None:
        return None
    return FailClosed(
        cause=FailClosedCause.UNKNOWN_ACTION_TYPE,
        detail=f"{action_type!r} is not in the action catalog",
    )


def is_missing(document: dict[str, Any], path: str) -> bool:
    """Whether a dotted path is absent or empty (None, "", [], {}) in the document."""
    node: Any = document
    for key in path.split("."):
        if not isinstance(node, dict) or node.get(key) in (None, "", [], {}):
            return True
        node = node[key]
    return False


def missing_fields(document: dict[str, Any], entry: CatalogEntry) -> FailClosed | None:
    """Every field the catalog requires for this action type must be present and non-empty."""
    missing = [path for path in entry.required_fields if is_missing(document, path)]
    if not missing:
        return None
    return FailClosed(
        cause=FailClosedCause.MISSING_REQUIRED_FIELD,
        detail=f"required by the catalog but missing: {', '.join(missing)}",
    )


def contradictory_sources(proposal: Proposal) -> FailClosed | None:
    """Two changes to the same record and field that disagree on the new value."""
    seen: dict[tuple[str, str], Any] = {}
    for change in proposal.changes:
        key = (change.record, change.field)
        if key in seen and seen[key] != change.to:
            return FailClosed(
                cause=FailClosedCause.CONTRADICTORY_SOURCES,
                detail=f"{change.record}.{change.field} is set to both {seen[key]!r} "
                f"and {change.to!r}",
            )
        seen.setdefault(key, change.to)
    return None


def low_confidence(proposal: Proposal, limits: Limits) -> FailClosed | None:
    """A proposal whose stated confidence is under the floor is not acted on alone.

    An absent confidence is not low: where it matters the catalog lists it as required.
    """
    if proposal.confidence is None or proposal.confidence >= limits.confidence_floor:
        return None
    return FailClosed(
        cause=FailClosedCause.LOW_CONFIDENCE,
        detail=f"confidence {proposal.confidence:g} is under the floor {limits.confidence_floor:g}",
    )
