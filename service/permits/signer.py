"""Signing permits: a compact JWS (Ed25519, `alg` EdDSA) per action the gate lets happen.

Claims: `iss`, `sub` (the agent principal), `aud` (the action's target), `jti` (the
decision id), `iat`, `exp`, `act` (the action type), `dig` (sha256 of the RFC 8785 form of
`{"action", "changes"}` as proposed) and `rev` (the policy revision). A target system checks
one offline with the gate's JWKS (`GET /.well-known/jwks.json`), e.g. with
`sluicegate-permit` (clients/permit). Keys are generated at first start and kept in the
store; `rotate` adds one, and older keys stay in the JWKS until their last permit expired.

A permit is a bearer credential: whoever holds it may act once. So the token itself is
never stored: a decision keeps its claims and the key's id (`IssuedPermit.stored`), and an
idempotent replay signs them again (`sign_again`). Ed25519 signatures are deterministic, so
the replay's token is the very token first answered, and nobody who can read the store or
a decision gets a usable permit."""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sluicegate_native
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from joserfc import jwt
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry
from sqlalchemy import Engine, insert, select, update

from policy.proposal import Proposal
from service.permits.tables import PERMIT_KEYS
from service.store.database import writing
from service.store.utc import utc_now

# RFC 9864 names the algorithm "Ed25519"; permits say "EdDSA", which every JOSE library
# verifies today. joserfc warns about the older name on every use: signing goes through a
# registry whose EdDSA carries no warning (the verifier does the same, sluicegate_permit's
# algorithm.py), and no process-wide warning filter is touched.
ALGORITHM = "EdDSA"


class _EdDSAOnly(JWSRegistry):
    # joserfc keeps its algorithms in this class-level dict; a subclass gets its own copy.
    algorithms = dict(JWSRegistry.algorithms)  # noqa: RUF012


_EdDSAOnly.algorithms[ALGORITHM] = copy.copy(JWSRegistry.algorithms[ALGORITHM])

_EdDSAOnly.algorithms[ALGORITHM].security_warning = None
_SIGNING = _EdDSAOnly(algorithms=[ALGORITHM])
# How often a gateway looks for a key another process added (`permits rotate-key`).
_RELOAD_SECONDS = 5.0


@dataclass(frozen=True)
class StoredPermit:
    """What is kept of a permit: its claims and the id of the key that signed it."""

    claims: dict[str, Any]
    kid: str

    @property
    def expires_at(self) -> datetime:
        """When the permit stops verifying (its `exp`)."""
        return datetime.fromtimestamp(int(self.claims["exp"]), UTC)


@dataclass(frozen=True)
class IssuedPermit:
    """A permit as issued: the token for the agent's answer, and what may be stored of it."""

    token: str
    stored: StoredPermit


def action_digest(action: Any, changes: Any) -> str:
    """The `dig` claim: lowercase hex sha256 of the RFC 8785 form of the action and changes."""
    document = {"action": action, "changes": changes}
    return hashlib.sha256(sluicegate_native.canonical_json(document)).hexdigest()


def proposed_action(proposal: Proposal) -> tuple[dict[str, Any], list[Any]]:
    """The action and changes as the agent proposed them (fields it did not send left out)."""
    sent = proposal.model_dump(
        mode="json", by_alias=True, exclude_unset=True, include={"action", "changes"}
    )
    return sent["action"], sent.get("changes", [])


def rotate_key(database: Engine) -> str:
    """Add a new signing key; the one before it is retired (still published until its last
    permit expires). Returns the new key's id."""
    kid = secrets.token_hex(8)
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    now = utc_now()
    with writing(database) as connection:
        connection.execute(
            update(PERMIT_KEYS).where(PERMIT_KEYS.c.retired_at.is_(None)).values(retired_at=now)
        )
        connection.execute(
            insert(PERMIT_KEYS), [{"kid": kid, "private_pem": pem, "created_at": now}]
        )
    return kid


class PermitSigner:
    """Issues permits with the newest key, and publishes the keys that verify them."""

    def __init__(
        self,
        database: Engine,
        *,
        issuer: str,
        ttl_seconds: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._issuer = issuer
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._current: tuple[OKPKey, float] | None = None
        self._by_kid: dict[str, OKPKey] = {}

    def expires_at(self, issued_at: datetime) -> datetime:
        """When a permit issued at `issued_at` stops verifying (its `exp`)."""
        return datetime.fromtimestamp(int((issued_at + self._ttl).timestamp()), UTC)

    def issue(
        self,
        *,
        agent_id: str,
        proposal: Proposal,
        decision_id: str,
        revision: str,
        issued_at: datetime | None = None,
    ) -> IssuedPermit:
        """A permit for this proposal, by this agent, under this decision (issued now, or at
        `issued_at`: an approval's permit is issued when it is used)."""
        key = self._signing_key()
        now = issued_at or self._clock()
        action, changes = proposed_action(proposal)
        claims = {
            "iss": self._issuer,
            "sub": agent_id,
            "aud": proposal.action.target or proposal.action.type,
            "jti": decision_id,
            "iat": int(now.timestamp()),
            "exp": int(self.expires_at(now).timestamp()),
            "act": proposal.action.type,
            "dig": action_digest(action, changes),
            "rev": revision,
        }
        assert key.kid is not None
        return IssuedPermit(_signed(claims, key), StoredPermit(claims, key.kid))

    def sign_again(self, stored: StoredPermit) -> str:
        """The token a stored permit was: the same claims signed with the same key give the
        same bytes (Ed25519 is deterministic). KeyError when the key is gone from the store."""
        with self._lock:
            key = self._by_kid.get(stored.kid)
        if key is None:
            with self._database.connect() as connection:
                pem = connection.execute(
                    select(PERMIT_KEYS.c.private_pem).where(PERMIT_KEYS.c.kid == stored.kid)
                ).scalar()
            if pem is None:
                raise KeyError(stored.kid)
            key = _jwk(pem, stored.kid)
            with self._lock:
                self._by_kid[stored.kid] = key
        return _signed(stored.claims, key)

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify permits not yet expired: the current key, and retired
        keys until their last permit's `exp`."""
        self._signing_key()  # a fresh store gets its first key before anyone asks
        # A gateway may sign with a key for up to _RELOAD_SECONDS after another retired it.
        oldest_live = self._clock() - self._ttl - timedelta(seconds=_RELOAD_SECONDS)
        with self._database.connect() as connection:
            rows = connection.execute(
                select(PERMIT_KEYS.c.kid, PERMIT_KEYS.c.private_pem)
                .where(
                    (PERMIT_KEYS.c.retired_at.is_(None)) | (PERMIT_KEYS.c.retired_at > oldest_live)
                )
                .order_by(PERMIT_KEYS.c.created_at.desc())
            ).all()
        return {"keys": [_jwk(row.private_pem, row.kid).as_dict(private=False) for row in rows]}

    def _signing_key(self) -> OKPKey:
        with self._lock:
            if self._current is not None and self._current[1] > time.monotonic():
                return self._current[0]
            row = self._newest()
            if row is None:  # the first start on this store
                rotate_key(self._database)
                row = self._newest()
            assert row is not None
            key = _jwk(row.private_pem, row.kid)
            self._current = (key, time.monotonic() + _RELOAD_SECONDS)
            return key

    def _newest(self) -> Any:
        with self._database.connect() as connection:
            return connection.execute(
                select(PERMIT_KEYS.c.kid, PERMIT_KEYS.c.private_pem)
                .where(PERMIT_KEYS.c.retired_at.is_(None))
                .order_by(PERMIT_KEYS.c.created_at.desc())
            ).first()


def _signed(claims: dict[str, Any], key: OKPKey) -> str:
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, registry=_SIGNING)


def _jwk(pem: str, kid: str) -> OKPKey:
    return OKPKey.import_key(pem, parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
