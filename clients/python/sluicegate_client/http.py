"""Sync and async HTTP clients for the agent's side of the gate.

`decide(proposal)` asks; with `wait=True` a routed action is waited for by long poll (the
gateway answers the moment the review resolves) and an approval is used at once, so the
call returns only when the agent may act, and raises when it may not."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from sluicegate_client.errors import ActionDenied, AwaitingReview, GateError
from sluicegate_client.models import ActionStatus, ApprovalUse, Decision, DecisionStatus, Outcome

_PATH = "/v1/decisions"
# The longest one long poll may hold (the gateway's limit).
_LONGEST_POLL = 60.0
_POLL_MARGIN_SECONDS = 10.0
# How long `decide(wait=True)` waits for a human by default, in seconds.
DEFAULT_WAIT_SECONDS = 3600.0


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


# A proposal as the wire contract shapes it: a JSON object, or a pydantic model of one.
ProposalBody = Mapping[str, Any] | BaseModel


def _body(proposal: ProposalBody) -> bytes:
    if isinstance(proposal, BaseModel):
        return proposal.model_dump_json(by_alias=True, exclude_none=True).encode()
    return json.dumps(proposal).encode()


def _checked(response: httpx.Response) -> bytes:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            code, message = None, response.text[:200]
        raise GateError(
            f"gate answered {response.status_code}: {message}",
            status=response.status_code,
            code=code,
        )
    return response.content


def _decision(response: httpx.Response) -> Decision:
    return Decision.model_validate_json(_checked(response))


def _status(response: httpx.Response) -> DecisionStatus:
    return DecisionStatus.model_validate_json(_checked(response))


def _use(response: httpx.Response) -> ApprovalUse:
    return ApprovalUse.model_validate_json(_checked(response))


def enforce(decision: Decision) -> Decision:
    """Return the decision if the agent may act now; raise if it must not."""
    if isinstance(decision, DecisionStatus) and decision.status is ActionStatus.APPROVED:
        return decision
    if decision.outcome in (Outcome.ALLOW, Outcome.SAMPLE):
        return decision
    if isinstance(decision, DecisionStatus) and decision.status in (
        ActionStatus.REJECTED,
        ActionStatus.EXPIRED,
    ):
        raise ActionDenied(decision)
    if decision.outcome is Outcome.ROUTE_TO_HUMAN:
        raise AwaitingReview(decision)
    raise ActionDenied(decision)


def _poll_seconds(deadline: float) -> float:
    """The next long poll's length: what is left of the wait, up to the gateway's limit."""
    return max(0.0, min(_LONGEST_POLL, deadline - time.monotonic()))


def _poll_timeout(wait: float) -> Any:
    """A long poll may take its wait plus a margin; anything else the client's own timeout."""
    return wait + _POLL_MARGIN_SECONDS if wait else httpx.USE_CLIENT_DEFAULT


def _still_waiting(status: DecisionStatus, deadline: float) -> bool:
    return status.status is ActionStatus.PENDING_REVIEW and time.monotonic() < deadline


class GateClient:
    """A blocking client; any transport failure raises `GateError` (never a silent allow)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    def decide(
        self,
        proposal: ProposalBody,
        *,
        wait: bool = False,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> Decision:
        """Ask the gate; with `wait`, a routed action returns once approved (and the approval
        used), or its status once rejected, expired or still pending after `wait_seconds`."""
        try:
            decision = _decision(self._http.post(_PATH, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc
        if not wait or decision.outcome is not Outcome.ROUTE_TO_HUMAN:
            return decision
        status = self.wait_for_review(decision.decision_id, wait_seconds)
        if status.status is ActionStatus.APPROVED:
            self.proceed(decision.decision_id, proposal)
        return status

    def get(self, decision_id: str, *, wait: float = 0) -> DecisionStatus:
        """Read a decision and the action's status; `wait` long-polls a pending review."""
        try:
            params = {"wait": wait} if wait else None
            timeout = _poll_timeout(wait)
            return _status(self._http.get(f"{_PATH}/{decision_id}", params=params, timeout=timeout))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    def wait_for_review(self, decision_id: str, seconds: float) -> DecisionStatus:
        """Long-poll until the review resolves or `seconds` pass."""
        deadline = time.monotonic() + seconds
        status = self.get(decision_id, wait=_poll_seconds(deadline))
        while _still_waiting(status, deadline):
            status = self.get(decision_id, wait=_poll_seconds(deadline))
        return status

    def proceed(self, decision_id: str, proposal: ProposalBody) -> ApprovalUse:
        """Use the approval (once, for exactly this proposal) before acting."""
        try:
            path = f"{_PATH}/{decision_id}/proceed"
            return _use(self._http.post(path, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GateClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AsyncGateClient:
    """The same client for asyncio code."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    async def decide(
        self,
        proposal: ProposalBody,
        *,
        wait: bool = False,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> Decision:
        """Ask the gate; with `wait`, as `GateClient.decide`."""
        try:
            decision = _decision(await self._http.post(_PATH, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc
        if not wait or decision.outcome is not Outcome.ROUTE_TO_HUMAN:
            return decision
        status = await self.wait_for_review(decision.decision_id, wait_seconds)
        if status.status is ActionStatus.APPROVED:
            await self.proceed(decision.decision_id, proposal)
        return status

    async def get(self, decision_id: str, *, wait: float = 0) -> DecisionStatus:
        """Read a decision and the action's status; `wait` long-polls a pending review."""
        try:
            params = {"wait": wait} if wait else None
            timeout = _poll_timeout(wait)
            path = f"{_PATH}/{decision_id}"
            return _status(await self._http.get(path, params=params, timeout=timeout))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    async def wait_for_review(self, decision_id: str, seconds: float) -> DecisionStatus:
        """Long-poll until the review resolves or `seconds` pass."""
        deadline = time.monotonic() + seconds
        status = await self.get(decision_id, wait=_poll_seconds(deadline))
        while _still_waiting(status, deadline):
            status = await self.get(decision_id, wait=_poll_seconds(deadline))
        return status

    async def proceed(self, decision_id: str, proposal: ProposalBody) -> ApprovalUse:
        """Use the approval (once, for exactly this proposal) before acting."""
        try:
            path = f"{_PATH}/{decision_id}/proceed"
            return _use(await self._http.post(path, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGateClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
