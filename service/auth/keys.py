"""API keys: created for a principal with a role, shown once, stored hashed, listed, revoked
(each change an audit event in the same transaction), and turned back into a principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import aliased

from service.audit.chain import record
from service.auth.principals import Principal, PrincipalKind
from service.auth.roles import Role
from service.auth.tables import API_KEYS, PRINCIPALS
from service.store.database import writing
from service.store.utc import utc_now

# Keys read `sg_<key id>_<secret>`: the key id finds the row, the whole key is hashed.
KEY_PREFIX = "sg"
# The longest a revoked key may still be honoured by a gateway that saw it recently.
MAX_CACHE_SECONDS = 1.0


def secret_hash(key: str) -> str:
    """sha256 of a random secret (an API key, a session token): what is stored instead."""
    # Keys are 256-bit random secrets, not passwords: a fast hash cannot be brute-forced, and a
    # slow password hash (argon2, bcrypt) would cost milliseconds on every request for nothing.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyListing:
    """One key as `sluicegate keys list` shows it; never the secret or its hash."""

    id: str
    name: str
    role: str
    scopes: list[str]
    owner: str | None
    created_at: datetime
    revoked_at: datetime | None
    principal_id: str
    kind: str


def create_key(
    database: Engine, *, name: str, role: Role, scopes: list[str], owner_id: str | None = None
) -> tuple[Principal, str]:
    """A new key for the principal `name` (created when new); the key is shown once and stored
    hashed. ValueError when the key does not fit the principal (an agent key for a person, a
    person's key for an agent, another owner).

    `owner_id` names an agent's accountable owner, whom four eyes keeps from approving it."""
    kind = PrincipalKind.holding(role)
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    now = utc_now()
    with writing(database) as connection:
        principal = _principal_for(connection, name, kind, owner_id, now)
        row = {
            "id": key_id,
            "principal_id": principal["id"],
            "role": role.value,
            "scopes": scopes,
            "key_hash": secret_hash(key),
            "created_at": now,
        }
        connection.execute(insert(API_KEYS), [row])
        # One event says both: the key, and the principal it belongs to (new or not).
        public = {k: row[k] for k in ("id", "role", "scopes")}
        record(connection, "key_created", now=now, body={"key": public, "principal": principal})
    created = Principal(
        id=principal["id"], name=name, role=role, scopes=tuple(scopes), key_id=key_id
    )
    return created, key


def _principal_for(
    connection: Connection, name: str, kind: PrincipalKind, owner_id: str | None, now: datetime
) -> dict[str, Any]:
    """The principal named `name` as an audit event shows it, created when new."""
    found = connection.execute(select(PRINCIPALS).where(PRINCIPALS.c.name == name)).first()
    if found is None:
        principal: dict[str, Any] = {
            "id": str(uuid_utils.uuid7()),
            "name": name,
            "kind": kind.value,
            "owner_id": owner_id,
        }
        connection.execute(insert(PRINCIPALS), [principal | {"created_at": now}])
        return principal | {"new": True}
    if found.kind != kind.value:
        raise ValueError(f"{name!r} is a {found.kind}; only {kind.value}s hold such keys")
    if owner_id is not None and owner_id != found.owner_id:
        raise ValueError(f"{name!r} already has another owner; an agent's owner stays")
    return {
        "id": found.id,
        "name": found.name,
        "kind": found.kind,
        "owner_id": found.owner_id,
        "new": False,
    }


def revoke_key(database: Engine, key_id: str) -> bool:
    """Revoke one key; the principal's other keys keep working. False when there is no such
    live key."""
    return bool(_revoke(database, API_KEYS.c.id == key_id))


def revoke_keys_of(database: Engine, principal_id: str) -> int:
    """Revoke every live key of a principal; how many were revoked."""
    return _revoke(database, API_KEYS.c.principal_id == principal_id)


def _revoke(database: Engine, which: Any) -> int:
    now = utc_now()
    with writing(database) as connection:
        revoked = connection.execute(
            select(API_KEYS.c.id, API_KEYS.c.principal_id).where(
                which, API_KEYS.c.revoked_at.is_(None)
            )
        ).all()
        for key in revoked:
            connection.execute(
                update(API_KEYS).where(API_KEYS.c.id == key.id).values(revoked_at=now)
            )
            record(
                connection,
                "key_revoked",
                now=now,
                body={"key": {"id": key.id, "principal_id": key.principal_id}},
            )
    return len(revoked)


def list_keys(database: Engine) -> list[KeyListing]:
    """Every key, live and revoked, oldest first."""
    owners = aliased(PRINCIPALS)
    with database.connect() as connection:
        rows = connection.execute(
            select(
                API_KEYS,
                PRINCIPALS.c.name,
                PRINCIPALS.c.kind,
                owners.c.name.label("owner"),
            )
            .join(PRINCIPALS, PRINCIPALS.c.id == API_KEYS.c.principal_id)
            .outerjoin(owners, owners.c.id == PRINCIPALS.c.owner_id)
            .order_by(API_KEYS.c.created_at, API_KEYS.c.id)
        ).all()
    return [
        KeyListing(
            id=row.id,
            name=row.name,
            role=row.role,
            scopes=list(row.scopes),
            owner=row.owner,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            principal_id=row.principal_id,
            kind=row.kind,
        )
        for row in rows
    ]


def principal_of_key(connection: Connection, key_id: str) -> Principal | None:
    """The principal a live key belongs to, acting with that key's role and scopes."""
    found = _live_key(connection, key_id)
    return None if found is None else found[1]


def live_keys_of(connection: Connection, principal_id: str, roles: Iterable[Role]) -> list[str]:
    """The ids of a principal's live keys with one of these roles, newest first."""
    return list(
        connection.execute(
            select(API_KEYS.c.id)
            .where(
                API_KEYS.c.principal_id == principal_id,
                API_KEYS.c.revoked_at.is_(None),
                API_KEYS.c.role.in_([role.value for role in roles]),
            )
            .order_by(API_KEYS.c.created_at.desc())
        ).scalars()
    )


def _live_key(connection: Connection, key_id: str) -> tuple[str, Principal] | None:
    """A live key's stored hash and the principal it acts as, in one query."""
    row = connection.execute(
        select(
            API_KEYS.c.key_hash,
            API_KEYS.c.role,
            API_KEYS.c.scopes,
            PRINCIPALS.c.id,
            PRINCIPALS.c.name,
        )
        .join(PRINCIPALS, PRINCIPALS.c.id == API_KEYS.c.principal_id)
        .where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    principal = Principal(
        id=row.id, name=row.name, role=Role(row.role), scopes=tuple(row.scopes), key_id=key_id
    )
    return str(row.key_hash), principal


class KeyAuthenticator:
    """Turns a bearer key into a principal. Positive answers are cached for `ttl` seconds, at
    most MAX_CACHE_SECONDS, so a key revoked on any gateway is refused by all within it."""

    def __init__(
        self,
        database: Engine,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._ttl = min(ttl, MAX_CACHE_SECONDS)
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Principal | None:
        """The principal for a key seen recently, without touching the database."""
        with self._lock:
            hit = self._cache.get(secret_hash(key))
        if hit is None or hit[0] <= self._clock():
            return None
        return hit[1]

    def authenticate(self, key: str) -> Principal | None:
        """The principal the key belongs to, or None for an unknown, malformed or revoked key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        hashed = secret_hash(key)
        with self._database.connect() as connection:
            found = _live_key(connection, parts[1])
        if found is None or not hmac.compare_digest(found[0], hashed):
            return None
        with self._lock:
            self._cache[hashed] = (self._clock() + self._ttl, found[1])
        return found[1]
