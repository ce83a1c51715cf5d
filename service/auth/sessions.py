"""Browser sessions for the review pages: a random token in an HTTP-only cookie, its hash in
the database, and a per-session CSRF token that every form must carry back."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from service.auth.keys import KeyAuthenticator, principal_of_key, secret_hash
from service.auth.principals import Principal
from service.auth.roles import Role
from service.auth.tables import UI_SESSIONS
from service.store.database import writing
from service.store.utc import utc_now

COOKIE = "sg_session"
LOGIN_CSRF_COOKIE = "sg_login_csrf"
# Who may sign in: reviewers work queues, auditors read them.
UI_ROLES = frozenset({Role.REVIEWER, Role.AUDITOR, Role.AUTHOR})


@dataclass(frozen=True)
class UiSession:
    """A signed-in principal and the CSRF token its forms carry."""

    principal: Principal
    csrf_token: str


def new_csrf_token() -> str:
    """A random token for a form."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))


def sign_in(
    database: Engine, principal: Principal, *, hours: float, until: datetime | None = None
) -> str:
    """Open a session for the principal, for `hours` (and no later than `until`: an ID
    token's expiry); returns the cookie token (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    ends = now + timedelta(hours=hours)
    ends = min(ends, until) if until is not None else ends
    with writing(database) as connection:
        connection.execute(delete(UI_SESSIONS).where(UI_SESSIONS.c.expires_at <= now))
        connection.execute(
            insert(UI_SESSIONS),
            [
                {
                    "token_hash": secret_hash(token),
                    "key_id": principal.key_id,
                    "csrf_token": new_csrf_token(),
                    "created_at": now,
                    "expires_at": ends,
                }
            ],
        )
    return token


def session_of(database: Engine, token: str | None) -> UiSession | None:
    """The live session a cookie token names, with its principal, or None; revoking the key
    signed in with ends the session."""
    if not token:
        return None
    with database.connect() as connection:
        row = connection.execute(
            select(UI_SESSIONS).where(UI_SESSIONS.c.token_hash == secret_hash(token))
        ).first()
        if row is None or row.expires_at <= utc_now():
            return None
        principal = principal_of_key(connection, row.key_id)
    if principal is None or principal.role not in UI_ROLES:
        return None
    return UiSession(principal=principal, csrf_token=row.csrf_token)


def sign_out(database: Engine, token: str | None) -> None:
    """End the session the cookie names."""
    if token:
        with writing(database) as connection:
            connection.execute(
                delete(UI_SESSIONS).where(UI_SESSIONS.c.token_hash == secret_hash(token))
            )


def principal_for_key(authenticator: KeyAuthenticator, key: str) -> Principal | None:
    """The principal a pasted key belongs to, if it may use the review pages."""
    principal = authenticator.authenticate(key.strip())
    return principal if principal is not None and principal.role in UI_ROLES else None
