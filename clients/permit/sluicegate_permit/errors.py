"""Why a permit was refused."""

from __future__ import annotations

from typing import Literal

Reason = Literal[
    "bad_signature", "expired", "wrong_audience", "action_mismatch", "replayed", "unknown_key"
]


class PermitError(Exception):
    """The permit does not allow this action; `reason` says why, as a stable code."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason: Reason = reason
