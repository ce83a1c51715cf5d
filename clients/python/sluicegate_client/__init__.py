"""Ask the Sluicegate gate before acting: sync, async, or with a decorator."""

from sluicegate_client.decorator import gated
from sluicegate_client.errors import ActionDenied, AwaitingReview, GateError
from sluicegate_client.http import AsyncGateClient, GateClient, keyed
from sluicegate_client.models import (
    ActionStatus,
    ApprovalUse,
    Decision,
    DecisionStatus,
    Outcome,
    OutcomeRecorded,
)
from sluicegate_client.retrying import NO_RETRIES, RetryPolicy

__all__ = [
    "NO_RETRIES",
    "ActionDenied",
    "ActionStatus",
    "ApprovalUse",
    "AsyncGateClient",
    "AwaitingReview",
    "Decision",
    "DecisionStatus",
    "GateClient",
    "GateError",
    "Outcome",
    "OutcomeRecorded",
    "RetryPolicy",
    "gated",
    "keyed",
]
