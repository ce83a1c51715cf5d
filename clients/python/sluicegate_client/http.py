"""Sync and async HTTP clients for the agent's side of the gate.

`decide(proposal)` asks; with `wait=True` a routed action is waited for by long poll (the
gateway answers the moment the review resolves) and an approval is used at once, so the
call returns only when the agent may act, and raises when it may not. Every proposal carries
an idempotency key (a fresh one unless the proposal has its own), so a call repeated after a
lost answer gets the first decision back instead of a second one. `report` tells the gate
what the agent did. Failures are retried as `retrying.RetryPolicy` says.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel

from sluicegate_client.errors import ActionDenied, AwaitingReview, GateError
from sluicegate_client.models import (
    ActionStatus,
    ApprovalUse,
    Decision,
    DecisionStatus,
    Outcome,
    OutcomeRecorded,
)
from sluicegate_client.retrying import RetryPolicy

_PATH = "/v1/decisions"
# The longest one long poll may hold (the gateway's limit).
_LONGEST_POLL = 60.0
_POLL_MARGIN_SECONDS = 10.0
# How long `decide(wait=True)` waits for a human by default, in seconds.
DEFAULT_WAIT_SECONDS = 3600.0
T = TypeVar("T")
Reported = Literal["executed", "failed", "rolled_back"]


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


# A proposal as the wire contract shapes it: a JSON object, or a pydantic model of one.
ProposalBody = Mapping[str, Any] | BaseModel


def keyed(proposal: ProposalBody, key: str | None = None) -> dict[str, Any]:
    """The proposal as a JSON object with its idempotency key: `key` when given, else the
    proposal's own, else a fresh random one. Send this same object to `proceed`."""
    document = (
        proposal.model_dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(proposal, BaseModel)
        else dict(proposal)
    )
    if key is not None:
        document["idempotency_key"] = key
    elif not document.get("idempotency_key"):
        document["idempotency_key"] = str(uuid.uuid4())
    return document


def _body(proposal: ProposalBody) -> bytes:
    if isinstance(proposal, BaseModel):
        return proposal.model_dump_json(by_alias=True, exclude_none=True).encode()
    return json.dumps(proposal).encode()


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds: a number, or an HTTP date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


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
            retry_after=_retry_after(response),
        )
    return response.content


def _reader(model: type[T]) -> Callable[[httpx.Response], T]:
    def read(response: httpx.Response) -> T:
        return model.model_validate_json(_checked(response))  # type: ignore[attr-defined,no-any-return]

    return read


_decision = _reader(Decision)
_status = _reader(DecisionStatus)
_use = _reader(ApprovalUse)
_recorded = _reader(OutcomeRecorded)


def _unreachable(exc: httpx.HTTPError) -> GateError:
    return GateError(f"the gate could not be reached: {exc!r}")


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


def _report_body(
    status: Reported,
    artifact: Mapping[str, Any] | None,
    note: str | None,
    duration_ms: int | None,
) -> bytes:
    body: dict[str, Any] = {"status": status, "artifact": dict(artifact or {})}
    if note is not None:
        body["note"] = note
    if duration_ms is not None:
        body["duration_ms"] = duration_ms
    return json.dumps(body).encode()


class GateClient:
    """A blocking client; any failure to get an answer raises `GateError` (never a silent
    allow), after the retries `retry` allows."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )
        self._retry = retry or RetryPolicy()

    def _call(
        self,
        read: Callable[[httpx.Response], T],
        method: str,
        path: str,
        *,
        idempotent: bool,
        **request: Any,
    ) -> T:
        try:
            for attempt in self._retry.retrying(idempotent=idempotent):
                with attempt:
                    return read(self._http.request(method, path, **request))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        raise AssertionError("tenacity returns or raises")  # pragma: no cover

    def decide(
        self,
        proposal: ProposalBody,
        *,
        wait: bool = False,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> Decision:
        """Ask the gate; with `wait`, a routed action returns once approved (and the approval
        used), or its status once rejected, expired or still pending after `wait_seconds`."""
        body = keyed(proposal)
        decision = self._call(_decision, "POST", _PATH, content=_body(body), idempotent=True)
        if not wait or decision.outcome is not Outcome.ROUTE_TO_HUMAN:
            return decision
        status = self.wait_for_review(decision.decision_id, wait_seconds)
        if status.status is ActionStatus.APPROVED:
            self.proceed(decision.decision_id, body)
        return status

    def get(self, decision_id: str, *, wait: float = 0) -> DecisionStatus:
        """Read a decision and the action's status; `wait` long-polls a pending review."""
        params = {"wait": wait} if wait else None
        path = f"{_PATH}/{decision_id}"
        timeout = _poll_timeout(wait)
        return self._call(_status, "GET", path, params=params, timeout=timeout, idempotent=True)

    def wait_for_review(self, decision_id: str, seconds: float) -> DecisionStatus:
        """Long-poll until the review resolves or `seconds` pass."""
        deadline = time.monotonic() + seconds
        status = self.get(decision_id, wait=_poll_seconds(deadline))
        while _still_waiting(status, deadline):
            status = self.get(decision_id, wait=_poll_seconds(deadline))
        return status

    def proceed(self, decision_id: str, proposal: ProposalBody) -> ApprovalUse:
        """Use the approval (once, for exactly this proposal: the one `decide` sent, with its
        idempotency key) before acting."""
        path = f"{_PATH}/{decision_id}/proceed"
        return self._call(_use, "POST", path, content=_body(proposal), idempotent=False)

    def withdraw(self, decision_id: str) -> DecisionStatus:
        """Take a routed proposal back while its review is open (status `withdrawn`)."""
        path = f"{_PATH}/{decision_id}/withdraw"
        return self._call(_status, "POST", path, idempotent=False)

    def report(
        self,
        decision_id: str,
        status: Reported,
        *,
        artifact: Mapping[str, Any] | None = None,
        note: str | None = None,
        duration_ms: int | None = None,
    ) -> OutcomeRecorded:
        """Tell the gate what the agent did: executed, failed or rolled_back, and how long
        it computed for it (`duration_ms`, set beside the time it waited on people)."""
        path = f"{_PATH}/{decision_id}/outcome"
        body = _report_body(status, artifact, note, duration_ms)
        return self._call(_recorded, "POST", path, content=body, idempotent=False)

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
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )
        self._retry = retry or RetryPolicy()

    async def _call(
        self,
        read: Callable[[httpx.Response], T],
        method: str,
        path: str,
        *,
        idempotent: bool,
        **request: Any,
    ) -> T:
        try:
            async for attempt in self._retry.async_retrying(idempotent=idempotent):
                with attempt:
                    return read(await self._http.request(method, path, **request))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        raise AssertionError("tenacity returns or raises")  # pragma: no cover

    async def decide(
        self,
        proposal: ProposalBody,
        *,
        wait: bool = False,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> Decision:
        """Ask the gate; with `wait`, as `GateClient.decide`."""
        body = keyed(proposal)
        decision = await self._call(_decision, "POST", _PATH, content=_body(body), idempotent=True)
        if not wait or decision.outcome is not Outcome.ROUTE_TO_HUMAN:
            return decision
        status = await self.wait_for_review(decision.decision_id, wait_seconds)
        if status.status is ActionStatus.APPROVED:
            await self.proceed(decision.decision_id, body)
        return status

    async def get(self, decision_id: str, *, wait: float = 0) -> DecisionStatus:
        """Read a decision and the action's status; `wait` long-polls a pending review."""
        params = {"wait": wait} if wait else None
        path = f"{_PATH}/{decision_id}"
        timeout = _poll_timeout(wait)
        return await self._call(
            _status, "GET", path, params=params, timeout=timeout, idempotent=True
        )

    async def wait_for_review(self, decision_id: str, seconds: float) -> DecisionStatus:
        """Long-poll until the review resolves or `seconds` pass."""
        deadline = time.monotonic() + seconds
        status = await self.get(decision_id, wait=_poll_seconds(deadline))
        while _still_waiting(status, deadline):
            status = await self.get(decision_id, wait=_poll_seconds(deadline))
        return status

    async def proceed(self, decision_id: str, proposal: ProposalBody) -> ApprovalUse:
        """Use the approval (once, for exactly this proposal) before acting."""
        path = f"{_PATH}/{decision_id}/proceed"
        return await self._call(_use, "POST", path, content=_body(proposal), idempotent=False)

    async def withdraw(self, decision_id: str) -> DecisionStatus:
        """Take a routed proposal back while its review is open (status `withdrawn`)."""
        path = f"{_PATH}/{decision_id}/withdraw"
        return await self._call(_status, "POST", path, idempotent=False)

    async def report(
        self,
        decision_id: str,
        status: Reported,
        *,
        artifact: Mapping[str, Any] | None = None,
        note: str | None = None,
        duration_ms: int | None = None,
    ) -> OutcomeRecorded:
        """Tell the gate what the agent did: executed, failed or rolled_back, and how long
        it computed for it (`duration_ms`, set beside the time it waited on people)."""
        path = f"{_PATH}/{decision_id}/outcome"
        body = _report_body(status, artifact, note, duration_ms)
        return await self._call(_recorded, "POST", path, content=body, idempotent=False)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGateClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
