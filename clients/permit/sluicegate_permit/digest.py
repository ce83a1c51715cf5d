"""The `dig` claim: what the permit is for, as one hash."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def action_digest(action: Any, changes: Any) -> str:
    """Lowercase hex sha256 of the RFC 8785 form of `{"action": action, "changes": changes}`,
    with both exactly as the agent proposed them."""
    return hashlib.sha256(rfc8785.dumps({"action": action, "changes": changes})).hexdigest()
