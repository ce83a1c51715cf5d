"""Sync and async HTTP clients for `POST /v1/decisions` and `GET /v1/decisions/{id}`."""

from __future__ import annotations

from typing import Any

import httpx

from policy.decision import Decision
from policy.outcome import Outcome
from policy.proposal import Proposal
from service.client.errors import ActionDenied, AwaitingReview, GateError

_PATH = "/v1/decisions"


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


def _body(proposal: Proposal | dict[str, Any]) -> bytes:
    model = proposal if isinstance(proposal, Proposal) else Proposal.model_validate(proposal)
    return model.model_dump_json(by_alias=True, exclude_none=True).encode()


def _decision(response: httpx.Response) -> Decision:
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
    return Decision.model_validate_json(response.content)


def enforce(decision: Decision) -> Decision:
    """Return the decision if the agent may act now; raise if it must not."""
    if decision.outcome in (Outcome.ALLOW, Outcome.SAMPLE):
        return decision
    if decision.outcome is Outcome.ROUTE_TO_HUMAN:
        raise AwaitingReview(decision)
    raise ActionDenied(decision)


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

    def decide(self, proposal: Proposal | dict[str, Any]) -> Decision:
        """Ask the gate about a proposal."""
        try:
            return _decision(self._http.post(_PATH, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    def get(self, decision_id: str) -> Decision:
        """Read a recorded decision."""
        try:
            return _decision(self._http.get(f"{_PATH}/{decision_id}"))
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

    async def decide(self, proposal: Proposal | dict[str, Any]) -> Decision:
        """Ask the gate about a proposal."""
        try:
            return _decision(await self._http.post(_PATH, content=_body(proposal)))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    async def get(self, decision_id: str) -> Decision:
        """Read a recorded decision."""
        try:
            return _decision(await self._http.get(f"{_PATH}/{decision_id}"))
        except httpx.HTTPError as exc:
            raise GateError(f"the gate could not be reached: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGateClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
