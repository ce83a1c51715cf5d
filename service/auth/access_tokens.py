"""Agents presenting the organisation's OAuth access tokens to the gate instead of keys.

The token is checked (auth/token_checks.py: issuer, signature, expiry, audience = this gate's
SLUICEGATE_PUBLIC_URL, the scope SLUICEGATE_OAUTH_SCOPE), then its subject (or client id)
must be linked to an agent principal (`sluicegate principals link AGENT --oauth-subject SUB`,
auth/identities.py). The agent acts with the action scopes given there, narrowed by the
token's `actions:<pattern>` scopes when it has any. A person's subject is refused: tokens act
as agents only. Anything else is refused, before anything is decided."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from sqlalchemy import Engine

from service.auth.identities import IdentityKind, LinkedPrincipal, linked_principal
from service.auth.principals import Principal, PrincipalKind
from service.auth.roles import Role
from service.auth.token_checks import TokenVerifier, narrowed, token_action_scopes, token_subjects
from service.errors import InvalidToken

# How long an accepted token is remembered (a link removed here stops it within this time).
CACHE_SECONDS = 1.0


class AccessTokens:
    """Turns an access token into an agent principal, or refuses it (InvalidToken,
    InsufficientScope, IdentityProviderUnavailable: never an allow)."""

    def __init__(self, database: Engine, verifier: TokenVerifier) -> None:
        self._database = database
        self._verifier = verifier
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Principal:
        """The agent the token acts as."""
        hashed = hashlib.sha256(token.encode()).hexdigest()
        now = self._verifier.now()
        with self._lock:
            hit = self._cache.get(hashed)
        if hit is not None and hit[0] > now:
            return hit[1]
        claims = self._verifier.verify(token)
        principal = self._agent_of(claims)
        until = min(now + CACHE_SECONDS, float(claims["exp"]))
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[hashed] = (until, principal)
        return principal

    def close(self) -> None:
        """Close the connections to the issuers."""
        self._verifier.close()

    def _agent_of(self, claims: dict[str, Any]) -> Principal:
        issuer = str(claims["iss"])
        linked = agent_linked(self._database, issuer, token_subjects(claims))
        return Principal(
            id=linked.id,
            name=linked.name,
            role=Role.AGENT,
            scopes=narrowed(linked.scopes, token_action_scopes(claims)),
            key_id=f"oauth:{issuer}",
        )


def agent_linked(database: Engine, issuer: str, subjects: list[str]) -> LinkedPrincipal:
    """The agent one of these subjects is linked to; InvalidToken when none is, or when the
    subject is a person's."""
    for subject in subjects:
        linked = linked_principal(database, IdentityKind.OAUTH, issuer, subject)
        if linked is not None and linked.kind is PrincipalKind.AGENT:
            return linked
    if any(linked_principal(database, IdentityKind.OIDC, issuer, s) for s in subjects):
        raise InvalidToken("not_an_agent", "its subject is a person's, not an agent's")
    raise InvalidToken("unknown_subject", "its subject is not linked to an agent here")
