"""Every request to the proxy carries a key the gate accepts, an agent's, before the proxy
lists a tool or opens a stream: the gate says who a key is (`GET /v1/principals/me`), and
the answer is kept at most `ttl_seconds` (1 s, like the gate's own key cache), so a revoked
key stops working here within a second too. A gate that cannot be asked fails closed (503).
The cache is keyed by the key's SHA-256, never the key."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth.bearer import bearer_key
from service.mcp.gateway_client import GateRefused, GateUnavailable, GatewayClient

# How long the gate's word on a key is kept, at most (the gate's key cache is at most 1 s).
TTL_SECONDS = 1.0
# Keys remembered at once; the oldest goes first.
MAX_KEYS = 10_000


class KeyCache:
    """The gate's recent answers about keys: who each is, or that it was refused."""

    def __init__(self, gateway: GatewayClient, *, ttl_seconds: float = TTL_SECONDS) -> None:
        self._gateway = gateway
        self._ttl = min(ttl_seconds, TTL_SECONDS)
        self._known: OrderedDict[str, tuple[float, dict[str, Any] | GateRefused]] = OrderedDict()

    async def principal(self, key: str) -> dict[str, Any]:
        """Who the key is; GateRefused when the gate refuses it, GateUnavailable when the gate
        cannot say."""
        name = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        known = self._known.get(name)
        if known is None or known[0] <= now:
            try:
                answer: dict[str, Any] | GateRefused = await self._gateway.whoami(key)
            except GateRefused as refused:
                answer = refused
            known = (now + self._ttl, answer)
            self._known[name] = known
            self._known.move_to_end(name)
            while len(self._known) > MAX_KEYS:
                self._known.popitem(last=False)
        if isinstance(known[1], GateRefused):
            raise known[1]
        return known[1]


class KeyRequired:
    """ASGI middleware: 401 without a key the gate accepts, 403 for a key that is not an
    agent's, 503 when the gate cannot be asked; then the request goes on."""

    def __init__(self, app: ASGIApp, *, keys: KeyCache) -> None:
        self.app = app
        self._keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = bearer_key(headers.get("authorization"))
        if key is None:
            return _error(
                401, "unauthenticated", "send the agent's gate key as 'Authorization: Bearer <key>'"
            )
        try:
            principal = await self._keys.principal(key)
        except GateRefused as refused:
            if refused.status in {401, 403}:
                return _error(401, "unauthenticated", "the gate does not accept this key")
            return _error(503, "gate_unavailable", "the gate could not check the key")
        except GateUnavailable:
            return _error(503, "gate_unavailable", "the gate cannot be reached to check the key")
        if principal.get("role") != "agent":
            return _error(403, "forbidden", "the proxy takes agents' keys only")
        return None


def _error(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": []}},
        status_code=status,
        headers=headers,
    )
