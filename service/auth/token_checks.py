"""Checking an OAuth access token (JWT, RFC 9068) against the issuers this service trusts,
without any store: the gate (auth/access_tokens.py) and the MCP proxy both use it.

Accepted when: its `alg` is an asymmetric one (never `none`, never HMAC); its issuer is
trusted; it verifies with a key that issuer publishes (its JWKS, found by discovery); `exp`
and `nbf` hold (with the clock skew given); its `aud` is this resource's URL (RFC 8707); and
it carries the scope asked. Otherwise InvalidToken (with its reason) or InsufficientScope."""

from __future__ import annotations

import json
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

from service.auth.issuer_keys import IssuerKeys
from service.errors import InsufficientScope, InvalidToken

# Asymmetric signatures only: `none` and HMAC (a shared secret the gate would have to hold,
# or an issuer's public key misused as one) are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 60
# A token's action scopes: `actions:payments.*` narrows the agent to payments actions.
ACTION_SCOPE_PREFIX = "actions:"


class TokenVerifier:
    """Verifies tokens for one audience (a resource, or for ID tokens our client id), from the
    trusted issuers; `scope`, when given, must be among the token's."""

    def __init__(
        self,
        *,
        issuers: Sequence[str],
        audience: str,
        scope: str | None,
        leeway: int = LEEWAY_SECONDS,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http or httpx.Client()
        self._issuers = {issuer: IssuerKeys(issuer, http=self._http) for issuer in issuers}
        self._audience = audience.rstrip("/")
        self._scope = scope
        self._leeway = leeway
        self._clock = clock

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, verified; it carries the scope asked."""
        claims = self._verified_claims(token)
        if self._scope is not None and self._scope not in str(claims.get("scope", "")).split():
            raise InsufficientScope(self._scope)
        return claims

    def metadata(self, issuer: str) -> dict[str, Any]:
        """A trusted issuer's discovery document (its endpoints), read once."""
        return self._issuers[issuer].metadata()

    def now(self) -> float:
        """This verifier's clock."""
        return self._clock()

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
        # One trailing slash is the same resource; `aud` may be one value or a list of them.
        aud = claims.get("aud")
        if isinstance(aud, str):
            claims = claims | {"aud": aud.rstrip("/")}
        elif isinstance(aud, list):
            claims = claims | {"aud": [a.rstrip("/") if isinstance(a, str) else a for a in aud]}
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


def token_subjects(claims: dict[str, Any]) -> list[str]:
    """The token's subject, then its client id (client-credentials tokens name the client)."""
    found = [claims.get("sub"), claims.get("client_id"), claims.get("azp")]
    return [value for value in found if isinstance(value, str) and value]


def token_action_scopes(claims: dict[str, Any]) -> list[str]:
    """The action patterns a token names (`actions:<pattern>` scopes)."""
    scopes = str(claims.get("scope", "")).split()
    return [
        s.removeprefix(ACTION_SCOPE_PREFIX) for s in scopes if s.startswith(ACTION_SCOPE_PREFIX)
    ]


def narrowed(granted: Sequence[str], by_token: Sequence[str]) -> tuple[str, ...]:
    """The agent's scopes here, narrowed by what the token names (when it names any): of each
    pair of patterns, the narrower, when one covers the other; never wider than granted."""
    if not by_token:
        return tuple(granted)
    kept: list[str] = []
    for own in granted:
        for wanted in by_token:
            if fnmatchcase(wanted, own):
                kept.append(wanted)
            elif fnmatchcase(own, wanted):
                kept.append(own)
    return tuple(dict.fromkeys(kept))
