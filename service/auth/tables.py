"""The tables auth/ owns: principals, their API keys, their identities at the organisation's
provider, the review pages' sessions.

Other domains read them through the typed handles at the end of this module, or through
auth/'s functions; only auth/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class PrincipalRow(SQLModel, table=True):
    """Someone who calls the gate: a person (reviewer, author, auditor, admin) or an agent.

    Keys belong to a principal; four eyes, approvals, claims and audit events compare
    principals, so a person holding two keys (as during a rotation) is still one person."""

    __tablename__ = "principals"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True)
    kind: str  # person | agent
    # An agent's accountable owner (a principal id): four eyes keeps them from approving it.
    owner_id: str | None = None
    created_at: datetime = Field(sa_column=utc_column())
    # The Slack user who acts as this person in Slack (`sluicegate principals link`).
    slack_user_id: str | None = Field(default=None, unique=True, index=True)


class ApiKeyRow(SQLModel, table=True):
    """One API key of a principal, with the role and scopes it grants."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True)  # the public part of the key (`sg_<id>_<secret>`)
    principal_id: str = Field(index=True)
    role: str
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    key_hash: str  # sha256 of the whole key; the key itself is never stored
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PrincipalIdentityRow(SQLModel, table=True):
    """Who a principal is at the organisation's identity provider: an agent's OAuth subject
    (its access tokens act as it, with the scopes given here) or a person's OpenID subject.
    One subject of one issuer is one principal."""

    __tablename__ = "principal_identities"
    __table_args__ = (UniqueConstraint("kind", "issuer", "subject"),)

    id: str = Field(primary_key=True)
    principal_id: str = Field(index=True)
    kind: str  # oauth (an agent's access tokens) | oidc (a person's sign-in)
    issuer: str
    subject: str
    # An agent's action scopes when it acts by token (a token's `actions:` scopes narrow them).
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


class UiSessionRow(SQLModel, table=True):
    """A signed-in reviewer's browser session; the cookie holds a token, the table its hash."""

    __tablename__ = "ui_sessions"

    token_hash: str = Field(primary_key=True)
    key_id: str  # the key signed in with: revoking it ends the session
    csrf_token: str
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())


PRINCIPALS = table_of(PrincipalRow)
API_KEYS = table_of(ApiKeyRow)
UI_SESSIONS = table_of(UiSessionRow)
PRINCIPAL_IDENTITIES = table_of(PrincipalIdentityRow)
