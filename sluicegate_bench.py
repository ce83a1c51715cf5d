"""The peers harness's view of Sluicegate (`../shared/peers/callers_bench.py` imports it).

The harness writes its twelve-proposal mix in our wire contract's shape, plus a `name`; this
turns each into the body `POST /v1/decisions` takes: the name dropped, and what our catalog
requires of that action type filled in (a change to a record when `changes` is required), so
the rules decide rather than the missing-field check. It lives at the project root because
the harness imports it by this name from the project's environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class CatalogEntry(Protocol):
    """What the harness hands over per action type."""

    required_fields: list[str]


PLACEHOLDER_CHANGE = {"record": "bench/1", "field": "stage", "to": "won", "source": "bench/1"}


def to_wire(proposal: Mapping[str, Any], catalog: Mapping[str, CatalogEntry]) -> dict[str, Any]:
    """The harness's proposal as a request body for this gate's rules."""
    body = {key: value for key, value in proposal.items() if key != "name"}
    entry = catalog.get(body["action"]["type"])
    if entry is not None and "changes" in entry.required_fields:
        body.setdefault("changes", [PLACEHOLDER_CHANGE])
    return body
