"""Request dependencies, as `Annotated` aliases: the parts of the runtime a route needs, and
the authenticated principal with its role.

This is the one module that knows the runtime's attributes; routes take what they need from
here and hand it to one domain function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from sqlalchemy import Engine

from policy.rule_pack import RulePack
from service.auth.access_tokens import AccessTokens
from service.auth.bearer import bearer_key
from service.auth.keys import KEY_PREFIX, KeyAuthenticator
from service.auth.oidc_sign_in import OidcSignIn
from service.auth.on_behalf import acting_agent, names_an_agent
from service.auth.principals import Principal
from service.auth.roles import Role
from service.decisions.decide import Decider
from service.decisions.lookup import DecisionWatch
from service.errors import Forbidden, Unauthenticated
from service.held_calls.calls import HeldCalls
from service.metrics import GatewayMetrics
from service.permits.signer import PermitSigner
from service.request_log import PRINCIPAL_NAME
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.runtime import PublishedBundle, Runtime
from service.settings import Settings
from service.webhooks.destinations import Destinations


# Async, though they do not await: FastAPI runs plain functions in its thread pool, a hop per
# dependency per request for what is an attribute read.
async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def _part(name: str) -> Callable[[Request], Awaitable[object]]:
    """A dependency giving one named part of the runtime."""

    async def part(request: Request) -> object:  # not through RuntimeDep: one solve, not two
        return getattr(request.app.state.runtime, name)

    part.__name__ = f"runtime_{name}"
    return part


SettingsDep = Annotated[Settings, Depends(_part("settings"))]
DatabaseDep = Annotated[Engine, Depends(_part("database"))]
PackDep = Annotated[RulePack, Depends(_part("pack"))]
DeciderDep = Annotated[Decider, Depends(_part("decider"))]
DeskDep = Annotated[ReviewDesk, Depends(_part("desk"))]
BoardDep = Annotated[ReviewBoard, Depends(_part("board"))]
DecisionWatchDep = Annotated[DecisionWatch, Depends(_part("decisions"))]
SigningKeyDep = Annotated[Ed25519PrivateKey, Depends(_part("signing_key"))]
MetricsDep = Annotated[GatewayMetrics, Depends(_part("metrics"))]
BundleDep = Annotated[PublishedBundle, Depends(_part("bundle"))]
AuthenticatorDep = Annotated[KeyAuthenticator, Depends(_part("authenticator"))]
DestinationsDep = Annotated[Destinations, Depends(_part("destinations"))]
PermitsDep = Annotated[PermitSigner, Depends(_part("permits"))]
HeldCallsDep = Annotated[HeldCalls, Depends(_part("held_calls"))]
AccessTokensDep = Annotated[AccessTokens | None, Depends(_part("access_tokens"))]
OidcDep = Annotated[OidcSignIn | None, Depends(_part("oidc"))]


async def authenticated_principal(
    request: Request, authenticator: AuthenticatorDep, tokens: AccessTokensDep
) -> Principal:
    key = bearer_key(request.headers.get("authorization"))
    if key is None:
        raise Unauthenticated("send the API key as 'Authorization: Bearer <key>'")
    if tokens is not None and not key.startswith(KEY_PREFIX + "_"):
        # Not one of our keys: an OAuth access token (refused with its reason, never allowed).
        principal: Principal | None = await asyncio.to_thread(tokens.authenticate, key)
    else:
        principal = authenticator.cached(key)
        if principal is None:
            principal = await asyncio.to_thread(authenticator.authenticate, key)
    if principal is None:
        raise Unauthenticated("the API key is unknown or revoked")
    if names_an_agent(request.headers):
        database = request.app.state.runtime.database
        principal = await asyncio.to_thread(acting_agent, database, principal, request.headers)
    setattr(request.state, PRINCIPAL_NAME, principal.name)
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticated_principal)]


def role_in(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only principals with one of the roles."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs the role {allowed}; the key has {principal.role.value}")
        return principal

    return check


AgentDep = Annotated[Principal, Depends(role_in(Role.AGENT))]
# Any principal: whether it may read one decision is decided per decision (decisions/readers.py).
DecisionReaderDep = PrincipalDep
ReviewerDep = Annotated[Principal, Depends(role_in(Role.REVIEWER))]
ReviewReaderDep = Annotated[Principal, Depends(role_in(Role.REVIEWER, Role.AUDITOR))]
AuditorDep = Annotated[Principal, Depends(role_in(Role.AUDITOR, Role.ADMIN))]
RuleReaderDep = Annotated[Principal, Depends(role_in(Role.AUTHOR, Role.AUDITOR))]
AuthorDep = Annotated[Principal, Depends(role_in(Role.AUTHOR))]
