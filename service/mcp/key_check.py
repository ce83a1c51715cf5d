"""Every request to the proxy carries a credential the gate accepts, an agent's, before the
proxy lists a tool or opens a stream:

- a gate key: the gate says who it is (`GET /v1/principals/me`);
- an OAuth access token, when the proxy takes them (`oauth_issuers`): the proxy checks it
  itself (its `aud` must be the proxy's `public_url`; auth/token_checks.py), then asks the
  gate with its **own** key (role `proxy`) which agent the token's subject is linked to
  (auth/on_behalf.py). The token goes nowhere: not to the gate, not upstream.

The gate's answer is kept at most `ttl_seconds` (1 s, like the gate's own key cache), so a
revoked key or link stops working here within a second too. A gate or an identity provider
that cannot be asked fails closed (503). The cache is keyed by the credential's SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth.bearer import bearer_key
from service.auth.challenge import resource_metadata_url
from service.auth.keys import KEY_PREFIX
from service.auth.on_behalf import on_behalf_headers
from service.auth.token_checks import TokenVerifier, token_action_scopes, token_subjects
from service.errors import IdentityProviderUnavailable, InsufficientScope, InvalidToken
from service.mcp.gateway_client import Caller, GateRefused, GateUnavailable, GatewayClient

# How long the gate's word on a credential is kept, at most (the gate's cache is at most 1 s).
TTL_SECONDS = 1.0
# Credentials remembered at once; the oldest goes first.
MAX_KEYS = 10_000
_INVALID = ('error="invalid_token"',)


class Refused(Exception):
    """The credential is not accepted: the answer to give (401, 403 or 503)."""

    def __init__(
        self, status: int, code: str, message: str, *, challenge: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        # What `WWW-Authenticate` says beside the metadata's URL (RFC 6750 parameters).
        self.status, self.code, self.challenge = status, code, challenge


class KeyCache:
    """The gate's recent answers about credentials: the agent each acts as, or a refusal."""

    def __init__(
        self,
        gateway: GatewayClient,
        *,
        tokens: TokenVerifier | None = None,
        proxy_key: str | None = None,
        ttl_seconds: float = TTL_SECONDS,
    ) -> None:
        self._gateway = gateway
        self._tokens = tokens
        self._proxy_key = proxy_key
        self._ttl = min(ttl_seconds, TTL_SECONDS)
        self._known: OrderedDict[str, tuple[float, Caller | Refused]] = OrderedDict()

    async def caller(self, credential: str) -> Caller:
        """Who asks the gate for this credential; Refused when it is not an agent's."""
        name = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        known = self._known.get(name)
        if known is None or known[0] <= now:
            try:
                answer: Caller | Refused = await self._resolve(credential)
            except Refused as refused:
                answer = refused
            if not (isinstance(answer, Refused) and answer.status == 503):
                self._known[name] = (now + self._ttl, answer)
                self._known.move_to_end(name)
                while len(self._known) > MAX_KEYS:
                    self._known.popitem(last=False)
            known = (now, answer)
        if isinstance(known[1], Refused):
            raise known[1]
        return known[1]

    async def _resolve(self, credential: str) -> Caller:
        if credential.startswith(KEY_PREFIX + "_") or self._tokens is None:
            caller = Caller(credential)
        else:
            caller = await self._token_caller(credential)
        try:
            principal = await self._gateway.whoami(caller)
        except GateRefused as refused:
            if refused.status in {401, 403}:
                raise Refused(
                    401,
                    "unauthenticated",
                    "the gate does not accept this credential",
                    challenge=_INVALID,
                ) from refused
            raise Refused(
                503, "gate_unavailable", "the gate could not check the credential"
            ) from refused
        except GateUnavailable as exc:
            raise Refused(
                503, "gate_unavailable", "the gate cannot be reached to check the credential"
            ) from exc
        if principal.get("role") != "agent":
            raise Refused(403, "forbidden", "the proxy takes agents' credentials only")
        return caller

    async def _token_caller(self, token: str) -> Caller:
        assert self._tokens is not None
        if self._proxy_key is None:
            raise Refused(
                503, "proxy_key_missing", "the proxy has no key of its own to act for tokens"
            )
        try:
            claims = await asyncio.to_thread(self._tokens.verify, token)
        except InvalidToken as exc:
            raise Refused(401, "invalid_token", str(exc), challenge=_INVALID) from exc
        except InsufficientScope as exc:
            lacking = ('error="insufficient_scope"', f'scope="{exc.scope}"')
            raise Refused(403, "insufficient_scope", str(exc), challenge=lacking) from exc
        except IdentityProviderUnavailable as exc:
            raise Refused(503, "identity_provider_unavailable", str(exc)) from exc
        naming = on_behalf_headers(
            str(claims["iss"]), token_subjects(claims), token_action_scopes(claims)
        )
        return Caller(self._proxy_key, naming)


class KeyRequired:
    """ASGI middleware: 401 without a credential the gate accepts, 403 for one that is not an
    agent's, 503 when it cannot be checked; then the request goes on. Well-known paths (the
    proxy's protected-resource metadata) are public."""

    def __init__(self, app: ASGIApp, *, keys: KeyCache, public_url: str | None = None) -> None:
        self.app = app
        self._keys = keys
        self._metadata = resource_metadata_url(public_url) if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/.well-known/"):
            refusal = await self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = bearer_key(headers.get("authorization"))
        if key is None:
            return self._error(
                Refused(
                    401,
                    "unauthenticated",
                    "send the agent's gate key or access token as 'Authorization: Bearer ...'",
                )
            )
        try:
            await self._keys.caller(key)
        except Refused as refused:
            return self._error(refused)
        return None

    def _error(self, refused: Refused) -> JSONResponse:
        headers: dict[str, str] = {}
        if refused.status == 401 or refused.challenge:
            parameters = list(refused.challenge)
            if self._metadata:
                parameters.append(f'resource_metadata="{self._metadata}"')
            headers["WWW-Authenticate"] = " ".join(["Bearer", ", ".join(parameters)]).strip()
        if refused.status == 503:
            headers["Retry-After"] = "1"
        body = {"error": {"code": refused.code, "message": str(refused), "details": []}}
        return JSONResponse(body, status_code=refused.status, headers=headers)
