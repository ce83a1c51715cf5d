"""Principals and their API keys: created with a role, authenticated by key, cached briefly."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import uuid_utils
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from policy.context import Agent
from service.store.tables import PrincipalRow

KEY_PREFIX = "sg"


class Role(StrEnum):
    """What a principal may do."""

    AGENT = "agent"
    REVIEWER = "reviewer"
    AUTHOR = "author"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SIDECAR = "sidecar"  # an OPA sidecar: downloads the rule bundle, nothing else


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    id: str
    name: str
    role: Role
    scopes: tuple[str, ...]

    def as_agent(self) -> Agent:
        """The agent identity rules see: from the credential, never from the request body."""
        return Agent(id=self.id, name=self.name, scopes=self.scopes)


def _hash(key: str) -> str:
    # Keys are 256-bit random secrets, not passwords: a fast hash cannot be brute-forced, and a
    # slow password hash (argon2, bcrypt) would cost milliseconds on every request for nothing.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    engine: Engine, *, name: str, role: Role, scopes: list[str], owner_id: str | None = None
) -> tuple[Principal, str]:
    """Create a principal and return it with its key; the key is shown once and stored hashed.

    `owner_id` names an agent's accountable owner, whom four eyes keeps from approving it."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    principal_id = str(uuid_utils.uuid7())
    row = PrincipalRow(
        id=principal_id,
        name=name,
        role=role.value,
        key_id=key_id,
        key_hash=_hash(key),
        scopes=scopes,
        created_at=datetime.now(UTC),
        owner_id=owner_id,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
    return Principal(id=principal_id, name=name, role=role, scopes=tuple(scopes)), key


def principal_named(engine: Engine, name: str) -> str:
    """The id of the one live principal with this name; LookupError for none or several."""
    table = PrincipalRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        ids = connection.execute(
            select(table.c.id).where(table.c.name == name, table.c.revoked_at.is_(None))
        ).all()
    if len(ids) != 1:
        raise LookupError(f"{len(ids)} live principals are named {name!r}; need exactly one")
    return str(ids[0][0])


def count_principals(engine: Engine) -> int:
    """How many principals exist (zero on a fresh store)."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(PrincipalRow)).one()[0]  # type: ignore[call-overload,no-any-return]


class KeyAuthenticator:
    """Turns a bearer key into a principal; positive answers are cached for `ttl` seconds."""

    def __init__(self, engine: Engine, *, ttl: float) -> None:
        self._engine = engine
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Principal | None:
        """The principal for a key seen recently, without touching the database."""
        with self._lock:
            hit = self._cache.get(_hash(key))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def authenticate(self, key: str) -> Principal | None:
        """The principal the key belongs to, or None for an unknown, malformed or revoked key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with Session(self._engine) as session:
            row = session.exec(  # type: ignore[call-overload]
                select(PrincipalRow).where(PrincipalRow.key_id == parts[1])  # type: ignore[arg-type]
            ).scalar_one_or_none()
        hashed = _hash(key)
        if (
            row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(row.key_hash, hashed)
        ):
            return None
        principal = Principal(
            id=row.id, name=row.name, role=Role(row.role), scopes=tuple(row.scopes)
        )
        with self._lock:
            self._cache[hashed] = (time.monotonic() + self._ttl, principal)
        return principal
