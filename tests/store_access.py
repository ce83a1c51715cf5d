"""Reaching into a test's store the way an operator (or an attacker) would: a connection of
its own, and a store that refuses to record decisions, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, MetaData, select, text

from service.store.database import database_engine


@contextmanager
def store(database_url: str) -> Iterator[Connection]:
    """A connection of its own, in a transaction committed on leaving: it sees only what the
    gateway committed."""
    engine = database_engine(database_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


# A store that refuses to record decisions: SQLite's and PostgreSQL's way of saying so.
_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END "
        "$$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
_ALLOW = {
    "sqlite": ["DROP TRIGGER refuse"],
    "postgresql": ["DROP TRIGGER refuse ON audit_events", "DROP FUNCTION refuse()"],
}


def refuse_audit_writes(database_url: str) -> None:
    """From now on every insert into the audit log fails, as on a full disk."""
    _run(database_url, _REFUSE)


def allow_audit_writes(database_url: str) -> None:
    """Undo `refuse_audit_writes`."""
    _run(database_url, _ALLOW)


def _run(database_url: str, statements: dict[str, list[str]]) -> None:
    with store(database_url) as connection:
        for statement in statements[connection.dialect.name]:
            connection.execute(text(statement))


def every_row(connection: Connection) -> list[str]:
    """Every row of every table the store has (whoever declares it), each as its repr."""
    schema = MetaData()
    schema.reflect(connection)
    return [
        repr(tuple(row))
        for table in schema.sorted_tables
        for row in connection.execute(select(table))
    ]
