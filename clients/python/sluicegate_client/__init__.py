"""Ask the Sluicegate gate before acting: sync, async, or with a decorator."""

from sluicegate_client.decorator import gated
from sluicegate_client.errors import ActionDenied, AwaitingReview, GateError
from sluicegate_client.http import AsyncGateClient, GateClient
from sluicegate_client.models import ActionStatus, ApprovalUse, Decision, DecisionStatus, Outcome

__all__ = [
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
    "gated",
]
