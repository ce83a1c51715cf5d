"""The definition of done: what an executed action's artifact must carry to count as verified."""

from __future__ import annotations

from typing import Any

from policy.pack_data import CatalogEntry
from policy.preconditions import is_missing


def missing_for_done(entry: CatalogEntry, artifact: dict[str, Any]) -> list[str]:
    """The artifact fields the catalog's `done_when` asks for and the artifact lacks."""
    return [path for path in entry.done_when if is_missing(artifact, path)]


def is_done(entry: CatalogEntry, artifact: dict[str, Any]) -> bool:
    """Verified: the action type defines done, and the artifact meets every part of it."""
    return bool(entry.done_when) and not missing_for_done(entry, artifact)
