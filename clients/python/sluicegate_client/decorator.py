"""`@gated`: ask the gate before a tool function runs; run it only on allow or sample."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from sluicegate_client.http import (
    DEFAULT_WAIT_SECONDS,
    AsyncGateClient,
    GateClient,
    ProposalBody,
    enforce,
)

P = ParamSpec("P")
R = TypeVar("R")
ProposalFor = Callable[..., ProposalBody]


def gated(
    client: GateClient | AsyncGateClient,
    propose: ProposalFor,
    *,
    wait: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a tool: `propose(*args, **kwargs)` builds the proposal from the call's arguments.

    On allow or sample the tool runs; on deny `ActionDenied` is raised; on route_to_human
    `AwaitingReview` is raised with the decision id (the tool did not run). With `wait=True`
    a routed call waits for the review: on approval the approval is used and the tool runs;
    on rejection or timeout `ActionDenied` is raised. Works on sync tools with a `GateClient`
    and on async tools with an `AsyncGateClient`.
    """

    def wrap(tool: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(tool):
            if not isinstance(client, AsyncGateClient):
                raise TypeError("an async tool needs an AsyncGateClient")
            async_client = client

            @functools.wraps(tool)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                proposal = propose(*args, **kwargs)
                enforce(await async_client.decide(proposal, wait=wait, wait_seconds=wait_seconds))
                return await cast(Callable[P, Awaitable[Any]], tool)(*args, **kwargs)

            return cast(Callable[P, R], run_async)
        if not isinstance(client, GateClient):
            raise TypeError("a sync tool needs a GateClient")
        sync_client = client

        @functools.wraps(tool)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            proposal = propose(*args, **kwargs)
            enforce(sync_client.decide(proposal, wait=wait, wait_seconds=wait_seconds))
            return tool(*args, **kwargs)

        return run

    return wrap
