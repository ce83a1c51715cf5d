"""API keys: created for a principal with a role, shown once, stored hashed, revoked (each
change an audit event in the same transaction), and turned back into a principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, Engine, insert, select, update
from sqlmodel import Session

from service.audit.chain import record
from service.auth.principals import Principal
from service.auth.roles import Role
from service.store.database import writing
from service.store.tables import PrincipalRow

_principals = PrincipalRow.__table__  # type: ignore[attr-defined]
# Keys read `sg_<key id>_<secret>`: the key id finds the row, the whole key is hashed.
KEY_PREFIX = "sg"


def secret_hash(key: str) -> str:
    """sha256 of a random secret (an API key, a session token): what is stored instead."""
    # Keys are 256-bit random secrets, not passwords: a fast hash cannot be brute-forced, and a
    # slow password hash (argon2, bcrypt) would cost milliseconds on every request for nothing.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    database: Engine, *, name: str, role: Role, scopes: list[str], owner_id: str | None = None
) -> tuple[Principal, str]:
    """Create a principal and return it with its key; the key is shown once and stored hashed.

    `owner_id` names an agent's accountable owner, whom four eyes keeps from approving it."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    principal_id = str(uuid_utils.uuid7())
    now = datetime.now(UTC)
    row = {
        "id": principal_id,
        "name": name,
        "role": role.value,
        "key_id": key_id,
        "key_hash": secret_hash(key),
        "scopes": scopes,
        "created_at": now,
        "owner_id": owner_id,
    }
    public = {k: row[k] for k in ("id", "name", "role", "key_id", "scopes", "owner_id")}
    with writing(database) as connection:
        connection.execute(insert(_principals), [row])
        _record(connection, "key_created", now, public)
    return Principal(id=principal_id, name=name, role=role, scopes=tuple(scopes)), key


def revoke_key(database: Engine, principal_id: str) -> bool:
    """Revoke a principal's key (it stops working within the authentication cache's TTL);
    False when there is no such live key."""
    now = datetime.now(UTC)
    with writing(database) as connection:
        changed = connection.execute(
            update(_principals)
            .where(_principals.c.id == principal_id, _principals.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
        if changed:
            _record(connection, "key_revoked", now, {"id": principal_id})
    return bool(changed)


def _record(connection: Connection, kind: str, now: datetime, principal: dict[str, Any]) -> None:
    """Key creation and revocation are audit events, in the same transaction as the change."""
    record(connection, kind, now=now, body={"principal": principal})


class KeyAuthenticator:
    """Turns a bearer key into a principal; positive answers are cached for `ttl` seconds."""

    def __init__(self, database: Engine, *, ttl: float) -> None:
        self._database = database
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Principal | None:
        """The principal for a key seen recently, without touching the database."""
        with self._lock:
            hit = self._cache.get(secret_hash(key))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def authenticate(self, key: str) -> Principal | None:
        """The principal the key belongs to, or None for an unknown, malformed or revoked key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with Session(self._database) as session:
            row = session.exec(  # type: ignore[call-overload]
                select(PrincipalRow).where(PrincipalRow.key_id == parts[1])  # type: ignore[arg-type]
            ).scalar_one_or_none()
        hashed = secret_hash(key)
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
