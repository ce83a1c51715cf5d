"""Agents presenting the organisation's OAuth access tokens (JWT, RFC 9068) instead of keys.

A token is accepted when: its `alg` is an asymmetric one (never `none`, never HMAC); its
issuer is one of SLUICEGATE_OAUTH_ISSUERS; it verifies with a key that issuer publishes (its
JWKS, found by discovery); `exp` and `nbf` hold (60 s of clock skew); its `aud` is this
gate's resource URL (SLUICEGATE_PUBLIC_URL, RFC 8707); it carries the scope the gate asks
(SLUICEGATE_OAUTH_SCOPE, `sluicegate` by default); and its subject (or client id) is linked to
an agent principal (`sluicegate principals link AGENT --oauth-subject SUB`). The agent then
acts with the action scopes given here, narrowed by the token's `actions:<pattern>` scopes
when it has any. Anything else is refused, before anything is decided."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import Engine

from service.auth.identities import IdentityKind, linked_principal
from service.auth.issuer_keys import IssuerKeys
from service.auth.principals import Principal, PrincipalKind
from service.auth.roles import Role
from service.errors import InsufficientScope, InvalidToken

# Asymmetric signatures only: `none` and HMAC (a shared secret the gate would have to hold,
# or an issuer's public key misused as one) are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 60
# A token's action scopes: `actions:payments.*` narrows the agent to payments actions.
ACTION_SCOPE_PREFIX = "actions:"
# How long an accepted token is remembered (a link removed here stops it within this time).
CACHE_SECONDS = 1.0


class AccessTokens:
    """Turns an access token into an agent principal, or refuses it (InvalidToken,
    InsufficientScope, IdentityProviderUnavailable: never an allow)."""

    def __init__(
        self,
        database: Engine,
        *,
        issuers: Sequence[str],
        audience: str,
        scope: str,
        leeway: int = LEEWAY_SECONDS,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._http = http or httpx.Client()
        self._issuers = {issuer: IssuerKeys(issuer, http=self._http) for issuer in issuers}
        self._audience = audience.rstrip("/")
        self._scope = scope
        self._leeway = leeway
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Principal:
        """The agent the token acts as."""
        hashed = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(hashed)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        claims = self._verified_claims(token)
        principal = self._agent_of(claims)
        until = min(self._clock() + CACHE_SECONDS, float(claims["exp"]))
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > self._clock()}
            self._cache[hashed] = (until, principal)
        return principal

    def close(self) -> None:
        """Close the connections to the issuers."""
        self._http.close()

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            compact = jws.extract_compact(token.encode())
            header, unverified = compact.protected, json.loads(compact.payload)
            if not isinstance(unverified, dict):
                raise TypeError("the payload is not a JSON object")
        except (DecodeError, JoseError, ValueError, TypeError) as exc:
            raise InvalidToken("malformed", "it is not a compact JWS") from exc
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidToken("algorithm_not_allowed", f"alg {alg!r} is not accepted")
        issuer = unverified.get("iss")
        keys_of = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if keys_of is None:
            raise InvalidToken("unknown_issuer", f"the issuer {issuer!r} is not trusted here")
        keys = keys_of.key_set(header.get("kid"))
        if keys is None:
            raise InvalidToken("unknown_key", f"{issuer} publishes no key {header.get('kid')!r}")
        try:
            decoded = jwt.decode(token, keys, algorithms=[str(alg)])
        except BadSignatureError as exc:
            raise InvalidToken("bad_signature", "the signature does not verify") from exc
        except (DecodeError, JoseError, ValueError) as exc:
            raise InvalidToken("malformed", f"it cannot be read: {exc}") from exc
        claims = dict(decoded.claims)
        self._check_claims(claims, keys_of.issuer)
        return claims

    def _check_claims(self, claims: dict[str, Any], issuer: str) -> None:
        if isinstance(claims.get("aud"), str) and claims["aud"].rstrip("/") == self._audience:
            claims = claims | {"aud": self._audience}  # one trailing slash is the same resource
        registry = JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise InvalidToken("expired", "it has expired") from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            name = getattr(exc, "claim", "")
            reason = (
                "wrong_audience" if name == "aud" else f"bad_claim_{name}" if name else "bad_claim"
            )
            raise InvalidToken(reason, str(exc)) from exc
        except JoseError as exc:
            raise InvalidToken("bad_claim", str(exc)) from exc

    def _agent_of(self, claims: dict[str, Any]) -> Principal:
        scopes = str(claims.get("scope", "")).split()
        if self._scope not in scopes:
            raise InsufficientScope(self._scope)
        issuer = str(claims["iss"])
        linked = None
        for subject in _subjects(claims):
            linked = linked_principal(self._database, IdentityKind.OAUTH, issuer, subject)
            if linked is not None:
                break
        if linked is None and any(
            linked_principal(self._database, IdentityKind.OIDC, issuer, s)
            for s in _subjects(claims)
        ):
            raise InvalidToken("not_an_agent", "its subject is a person's, not an agent's")
        if linked is None:
            raise InvalidToken("unknown_subject", "its subject is not linked to an agent here")
        if linked.kind is not PrincipalKind.AGENT:
            raise InvalidToken("not_an_agent", "its subject is a person's, not an agent's")
        narrowed = [
            s.removeprefix(ACTION_SCOPE_PREFIX) for s in scopes if s.startswith(ACTION_SCOPE_PREFIX)
        ]
        return Principal(
            id=linked.id,
            name=linked.name,
            role=Role.AGENT,
            scopes=_narrowed(linked.scopes, narrowed),
            key_id=f"oauth:{issuer}",
        )


def _subjects(claims: dict[str, Any]) -> list[str]:
    """The token's subject, then its client id (client-credentials tokens name the client)."""
    found = [claims.get("sub"), claims.get("client_id"), claims.get("azp")]
    return [value for value in found if isinstance(value, str) and value]


def _narrowed(granted: tuple[str, ...], by_token: list[str]) -> tuple[str, ...]:
    """The agent's scopes here, narrowed by what the token names (when it names any): of each
    pair of patterns, the narrower, when one covers the other; never wider than granted."""
    if not by_token:
        return granted
    kept: list[str] = []
    for own in granted:
        for wanted in by_token:
            if fnmatchcase(wanted, own):
                kept.append(wanted)
            elif fnmatchcase(own, wanted):
                kept.append(own)
    return tuple(dict.fromkeys(kept))
