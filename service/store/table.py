"""Typed handles on the tables: each domain's `tables.py` names its tables through here."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(row: type[SQLModel]) -> Table:
    """The SQLAlchemy `Table` behind a SQLModel table class, typed (SQLModel does not declare
    `__table__`), for Core statements: `select(DECISIONS.c.body)`."""
    table = row.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
