"""Principals: who calls the gate (an agent, a reviewer, an auditor, ...), and finding them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from policy.context import Agent
from service.auth.roles import Role
from service.store.tables import PrincipalRow

_principals = PrincipalRow.__table__  # type: ignore[attr-defined]


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


def live_principal(database: Engine, name: str) -> Principal:
    """The one live principal with this name; LookupError for none or several."""
    with database.connect() as connection:
        rows = connection.execute(
            select(_principals).where(
                _principals.c.name == name, _principals.c.revoked_at.is_(None)
            )
        ).all()
    if len(rows) != 1:
        raise LookupError(f"{len(rows)} live principals are named {name!r}; need exactly one")
    row = rows[0]
    return Principal(id=row.id, name=row.name, role=Role(row.role), scopes=tuple(row.scopes))


def principal_named(database: Engine, name: str) -> str:
    """The id of the one live principal with this name; LookupError for none or several."""
    return live_principal(database, name).id


def count_principals(database: Engine) -> int:
    """How many principals exist (zero on a fresh store)."""
    with Session(database) as session:
        return session.exec(select(func.count()).select_from(PrincipalRow)).one()[0]  # type: ignore[call-overload,no-any-return]
