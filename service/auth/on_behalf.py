"""An MCP proxy acting for the agent whose access token it checked.

The proxy verifies the MCP client's token itself (its `aud` is the proxy's own resource URL)
and never passes the token on. It calls the gate with its **own** key, of the role `proxy`,
naming the token's issuer, subjects and action scopes in headers. Only a key of that role may
name an agent this way: any other key that sends the headers is refused (403), and a proxy
key alone may do nothing else. The gate then maps the subject to its linked agent exactly as
for a token presented directly (auth/access_tokens.py), so the agent is the same principal
either way, with the same scopes, narrowed by the token's."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from service.auth.access_tokens import agent_linked
from service.auth.principals import Principal
from service.auth.roles import Role
from service.auth.token_checks import narrowed
from service.errors import Forbidden

ISSUER_HEADER = "Sluicegate-Token-Issuer"
SUBJECTS_HEADER = "Sluicegate-Token-Subjects"  # space-separated: `sub`, then the client id
SCOPES_HEADER = "Sluicegate-Token-Actions"  # space-separated `actions:` patterns, if any


def on_behalf_headers(issuer: str, subjects: list[str], actions: list[str]) -> dict[str, str]:
    """What the proxy sends beside its own key."""
    return {
        ISSUER_HEADER: issuer,
        SUBJECTS_HEADER: " ".join(subjects),
        SCOPES_HEADER: " ".join(actions),
    }


def names_an_agent(headers: Mapping[str, str]) -> bool:
    """Whether a request names a token's agent (any of the headers, from anyone)."""
    return any(name in headers for name in (ISSUER_HEADER, SUBJECTS_HEADER, SCOPES_HEADER))


def acting_agent(database: Engine, caller: Principal, headers: Mapping[str, str]) -> Principal:
    """The agent a proxy acts for; Forbidden for anyone but a proxy, InvalidToken when the
    subject is not linked to an agent."""
    if caller.role is not Role.PROXY:
        raise Forbidden("only an MCP proxy's key may act for a token's agent")
    issuer = headers.get(ISSUER_HEADER, "")
    subjects = headers.get(SUBJECTS_HEADER, "").split()
    if not issuer or not subjects:
        raise Forbidden("name the token's issuer and subjects")
    linked = agent_linked(database, issuer, subjects)
    return Principal(
        id=linked.id,
        name=linked.name,
        role=Role.AGENT,
        scopes=narrowed(linked.scopes, headers.get(SCOPES_HEADER, "").split()),
        key_id=f"{caller.key_id}:for:{issuer}",
    )
