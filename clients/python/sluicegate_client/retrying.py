"""When a call to the gate is tried again: backoff with jitter, honouring `Retry-After`.

A `503` means the gate did nothing (no decision was issued, nothing was recorded), and a
connection that never opened carried nothing: both are safe to try again for every call. A
connection that broke after the request was sent is tried again only where a repeat cannot
act twice: reads, and a proposal with its idempotency key (the gate answers a repeat with the
first decision). Using an approval or reporting an outcome is not repeated after that: the
error reaches the caller, who may read the decision's status to learn what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from sluicegate_client.errors import GateError

# Failures where the request cannot have reached the gate.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries: `attempts` in all, within `budget_seconds`, waiting
    `initial_seconds` doubled each time (with jitter) up to `max_wait_seconds`, or what the
    gate's `Retry-After` asks when it says (capped the same way)."""

    attempts: int = 4
    initial_seconds: float = 0.2
    max_wait_seconds: float = 5.0
    budget_seconds: float = 30.0

    def retrying(self, *, idempotent: bool) -> Retrying:
        """A tenacity controller for a blocking call."""
        return Retrying(**self._arguments(idempotent))

    def async_retrying(self, *, idempotent: bool) -> AsyncRetrying:
        """A tenacity controller for an asyncio call."""
        return AsyncRetrying(**self._arguments(idempotent))

    def _arguments(self, idempotent: bool) -> dict[str, Any]:
        backoff = wait_exponential_jitter(
            multiplier=self.initial_seconds, max=self.max_wait_seconds, jitter=self.initial_seconds
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            asked = error.retry_after if isinstance(error, GateError) else None
            if asked is not None:
                return min(asked, self.max_wait_seconds)
            return float(backoff(state))

        def worth_repeating(error: BaseException) -> bool:
            if isinstance(error, GateError):
                return error.status == 503
            if isinstance(error, _NOT_SENT):
                return True
            return idempotent and isinstance(error, httpx.TransportError)

        return {
            "stop": stop_after_attempt(self.attempts) | stop_after_delay(self.budget_seconds),
            "wait": wait,
            "retry": retry_if_exception(worth_repeating),
            "reraise": True,
        }


NO_RETRIES = RetryPolicy(attempts=1)
