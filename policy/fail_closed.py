"""Fail-closed causes: the one place where "unclear" turns into route_to_human or deny."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from policy.outcome import Outcome
from policy.pack_data import FailClosedPolicy


class FailClosedCause(StrEnum):
    """Why a decision did not come from the rules alone."""

    UNKNOWN_ACTION_TYPE = "unknown_action_type"
    MISSING_REQUIRED_FIELD = "missing_required_field"
    ENGINE_ERROR = "engine_error"
    ENGINE_TIMEOUT = "engine_timeout"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    ENGINE_UNDEFINED = "engine_undefined"
    ENGINE_MALFORMED_RESULT = "engine_malformed_result"
    POLICY_REVISION_MISMATCH = "policy_revision_mismatch"
    LOW_CONFIDENCE = "low_confidence"
    CONTRADICTORY_SOURCES = "contradictory_sources"
    AGENT_OUT_OF_SCOPE = "agent_out_of_scope"


# Causes whose outcome the rule data cannot soften: acting outside one's credential is never
# routed for approval.
_ALWAYS_DENY = frozenset({FailClosedCause.AGENT_OUT_OF_SCOPE})


class FailClosed(BaseModel):
    """The fail-closed part of a decision."""

    model_config = ConfigDict(frozen=True)

    cause: FailClosedCause
    detail: str


def fail_closed_outcome(cause: FailClosedCause, policy: FailClosedPolicy) -> Outcome:
    """route_to_human, or deny where the cause always denies or the rule data says so."""
    if cause in _ALWAYS_DENY:
        return Outcome.DENY
    return policy.outcomes.get(cause.value, Outcome.ROUTE_TO_HUMAN)
