"""Principals: who calls the gate, a person or an agent, whatever keys they hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from policy.context import Agent
from service.auth.roles import Role
from service.auth.tables import API_KEYS, PRINCIPALS, PrincipalRow


class PrincipalKind(StrEnum):
    """People review, author, audit and administer; agents propose actions."""

    PERSON = "person"
    AGENT = "agent"

    @classmethod
    def holding(cls, role: Role) -> PrincipalKind:
        """The kind of principal a key with this role belongs to."""
        return cls.AGENT if role is Role.AGENT else cls.PERSON


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the principal, with the role and scopes of the key it used.

    `id` is the principal's, shared by all its keys: every comparison of "who" uses it."""

    id: str
    name: str
    role: Role
    scopes: tuple[str, ...]
    key_id: str = ""

    def as_agent(self) -> Agent:
        """The agent identity rules see: from the credential, never from the request body."""
        return Agent(id=self.id, name=self.name, scopes=self.scopes)


def principal_named(database: Engine, name: str) -> str:
    """The id of the principal with this name; LookupError when there is none."""
    with database.connect() as connection:
        found: str | None = connection.execute(
            select(PRINCIPALS.c.id).where(PRINCIPALS.c.name == name)
        ).scalar()
    if found is None:
        raise LookupError(f"no principal is named {name!r}")
    return found


def owner_of(connection: Connection, agent_id: str) -> str | None:
    """The id of the agent's accountable owner; None when it has none (or is a person)."""
    owner: str | None = connection.execute(
        select(PRINCIPALS.c.owner_id).where(PRINCIPALS.c.id == agent_id)
    ).scalar()
    return owner


def name_of(connection: Connection, principal_id: str) -> str | None:
    """The principal's name; None when there is no such principal."""
    name: str | None = connection.execute(
        select(PRINCIPALS.c.name).where(PRINCIPALS.c.id == principal_id)
    ).scalar()
    return name


def names_and_owners(
    connection: Connection, principal_ids: Iterable[str]
) -> dict[str, tuple[str, str | None]]:
    """For each principal: its name, and its accountable owner's name (None without one)."""
    wanted = list(dict.fromkeys(principal_ids))
    if not wanted:
        return {}
    owner = aliased(PRINCIPALS)
    rows = connection.execute(
        select(PRINCIPALS.c.id, PRINCIPALS.c.name, owner.c.name.label("owner_name"))
        .outerjoin(owner, owner.c.id == PRINCIPALS.c.owner_id)
        .where(PRINCIPALS.c.id.in_(wanted))
    ).all()
    return {str(row.id): (str(row.name), row.owner_name) for row in rows}


def owners(connection: Connection) -> dict[str, str]:
    """Every principal's owner key: its accountable owner's id, or its own when it has none
    (what budgets per owner count by)."""
    rows = connection.execute(select(PRINCIPALS.c.id, PRINCIPALS.c.owner_id)).all()
    return {str(row.id): str(row.owner_id or row.id) for row in rows}


def acting_as(database: Engine, name: str, role: Role) -> Principal:
    """The principal with this name, through its oldest live key with this role; LookupError
    when it has none."""
    with database.connect() as connection:
        row = connection.execute(
            select(
                PRINCIPALS.c.id, PRINCIPALS.c.name, API_KEYS.c.id.label("key_id"), API_KEYS.c.scopes
            )
            .join(API_KEYS, API_KEYS.c.principal_id == PRINCIPALS.c.id)
            .where(
                PRINCIPALS.c.name == name,
                API_KEYS.c.role == role.value,
                API_KEYS.c.revoked_at.is_(None),
            )
            .order_by(API_KEYS.c.created_at)
        ).first()
    if row is None:
        raise LookupError(f"{name!r} holds no live {role.value} key")
    return Principal(
        id=row.id, name=row.name, role=role, scopes=tuple(row.scopes), key_id=row.key_id
    )


def count_principals(database: Engine) -> int:
    """How many principals exist (zero on a fresh store)."""
    with Session(database) as session:
        return session.exec(select(func.count()).select_from(PrincipalRow)).one()[0]  # type: ignore[call-overload,no-any-return]
