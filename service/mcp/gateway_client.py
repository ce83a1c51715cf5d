"""The proxy's HTTP client of the gateway, as the calling agent: decide, read, proceed,
report, and the held calls (`/v1/held-calls`). (Not `policy/gate.py`'s `Gate`, which decides
in process.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from service.held_calls.identity import CALL_DIGEST_HEADER


class GateUnavailable(Exception):
    """The gate could not be reached or failed (5xx): nothing may be forwarded."""


class GateRefused(Exception):
    """The gate answered 4xx: the key, the body or the step was refused."""

    def __init__(
        self, status: int, code: str, message: str, *, details: list[Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.details = details or []


@dataclass(frozen=True)
class Caller:
    """Who the proxy asks the gate as: the agent's own gate key, or (for an agent that
    presented an OAuth access token) the proxy's own key naming the token's agent
    (auth/on_behalf.py). The client's token itself is never sent anywhere."""

    key: str
    naming: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        """The request headers that say who asks."""
        return {"Authorization": f"Bearer {self.key}", **self.naming}


class GatewayClient:
    """HTTP calls to one gate; each as the agent behind the MCP client."""

    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_seconds)

    async def whoami(self, caller: Caller) -> dict[str, Any]:
        """Who the caller acts as (`GET /v1/principals/me`); GateRefused when the gate refuses."""
        return await self._call("GET", "/v1/principals/me", caller)

    async def decide(
        self, caller: Caller, proposal: dict[str, Any], *, call_digest: str | None = None
    ) -> dict[str, Any]:
        """Ask the gate about a proposal; with `call_digest`, GateRefused `call_already_held`
        (naming it) when the agent already has this call held, and nothing is decided."""
        extra = {CALL_DIGEST_HEADER: call_digest} if call_digest else None
        return await self._call("POST", "/v1/decisions", caller, proposal, extra_headers=extra)

    async def status(self, caller: Caller, decision_id: str) -> dict[str, Any]:
        """A decision and the action's status now."""
        return await self._call("GET", f"/v1/decisions/{decision_id}", caller)

    async def proceed(
        self, caller: Caller, decision_id: str, proposal: dict[str, Any]
    ) -> dict[str, Any]:
        """Spend the approval of a decision, for exactly this proposal."""
        return await self._call("POST", f"/v1/decisions/{decision_id}/proceed", caller, proposal)

    async def report(
        self, caller: Caller, decision_id: str, status: str, artifact: dict[str, Any]
    ) -> dict[str, Any]:
        """Report what happened when the call was forwarded."""
        body = {"status": status, "artifact": artifact}
        return await self._call("POST", f"/v1/decisions/{decision_id}/outcome", caller, body)

    async def hold(self, caller: Caller, call: dict[str, Any]) -> dict[str, Any]:
        """Hold a routed call in the gate's store until its review resolves."""
        return await self._call("POST", "/v1/held-calls", caller, call)

    async def held_call(self, caller: Caller, call_id: str) -> dict[str, Any]:
        """A held call with its decision's status now."""
        return await self._call("GET", f"/v1/held-calls/{call_id}", caller)

    async def start_forwarding(self, caller: Caller, call_id: str) -> dict[str, Any]:
        """Take the lease to forward an approved call; GateRefused 409 when another has it."""
        return await self._call("POST", f"/v1/held-calls/{call_id}/forwarding", caller)

    async def complete(
        self, caller: Caller, call_id: str, result: dict[str, Any]
    ) -> dict[str, Any]:
        """Store what the agent reads for a held call: final."""
        return await self._call(
            "POST", f"/v1/held-calls/{call_id}/result", caller, {"result": result}
        )

    async def cancel(self, caller: Caller, call_id: str) -> dict[str, Any]:
        """Cancel a held call: its open review is withdrawn."""
        return await self._call("POST", f"/v1/held-calls/{call_id}/cancel", caller)

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        caller: Caller,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            answer = await self._http.request(
                method,
                path,
                json=body,
                params=params,
                headers=caller.headers() | (extra_headers or {}),
            )
        except httpx.HTTPError as exc:
            raise GateUnavailable(f"the gate cannot be reached ({type(exc).__name__})") from exc
        if answer.status_code >= 500:
            raise GateUnavailable(f"the gate answered {answer.status_code}")
        try:
            document: dict[str, Any] = answer.json()
        except ValueError as exc:
            raise GateUnavailable("the gate answered something that is not JSON") from exc
        if answer.status_code >= 400:
            error = document.get("error", {}) if isinstance(document, dict) else {}
            raise GateRefused(
                answer.status_code,
                error.get("code", ""),
                error.get("message", ""),
                details=error.get("details") or [],
            )
        return document
