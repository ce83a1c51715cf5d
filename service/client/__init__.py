"""The agent-side client: ask the gate before acting (sync, async, or with a decorator)."""

from service.client.decorator import gated
from service.client.errors import ActionDenied, AwaitingReview, GateError
from service.client.http import AsyncGateClient, GateClient

__all__ = ["ActionDenied", "AsyncGateClient", "AwaitingReview", "GateClient", "GateError", "gated"]
