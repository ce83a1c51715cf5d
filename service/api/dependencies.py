"""Request dependencies: the gateway and the authenticated principal, as `Annotated` aliases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from service.auth.principals import Principal, Role
from service.errors import Forbidden, Unauthenticated
from service.gateway import Gateway


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


async def _principal(request: Request, gateway: GatewayDep) -> Principal:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise Unauthenticated("send the API key as 'Authorization: Bearer <key>'")
    principal = gateway.authenticator.cached(key)
    if principal is None:
        principal = await asyncio.to_thread(gateway.authenticator.authenticate, key)
    if principal is None:
        raise Unauthenticated("the API key is unknown or revoked")
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]


def role_in(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only principals with one of the roles."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs the role {allowed}; the key has {principal.role.value}")
        return principal

    return check


AgentDep = Annotated[Principal, Depends(role_in(Role.AGENT))]
DecisionReaderDep = Annotated[
    Principal, Depends(role_in(Role.AGENT, Role.REVIEWER, Role.AUDITOR, Role.ADMIN))
]
ReviewerDep = Annotated[Principal, Depends(role_in(Role.REVIEWER))]
ReviewReaderDep = Annotated[Principal, Depends(role_in(Role.REVIEWER, Role.AUDITOR))]
AuditorDep = Annotated[Principal, Depends(role_in(Role.AUDITOR, Role.ADMIN))]
