"""The database: a SQLAlchemy engine (SQLite in WAL mode by default) and Alembic migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, text

_MIGRATIONS = Path(__file__).parent / "migrations"


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before it is acknowledged, which "no decision without its
    # record" needs; group commit pays the fsync once per batch.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions would defer it).
    connection.isolation_level = None


WRITE_TRANSACTION = {"sqlite_immediate": True}


@contextmanager
def writing(database: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the database lock at BEGIN."""
    with (
        database.connect().execution_options(**WRITE_TRANSACTION) as connection,
        connection.begin(),
    ):
        yield connection


def writable(database: Engine) -> bool:
    """Whether a write transaction can begin and write now (a down, locked or read-only
    store cannot); nothing is changed."""
    try:
        with writing(database) as connection:
            # A read-only PostgreSQL refuses an UPDATE even when it matches no row.
            connection.execute(text("UPDATE audit_checkpoints SET seq = seq WHERE 1 = 0"))
    except Exception:
        return False
    return True


def _begin(connection: Any) -> None:
    # Writers take the lock at BEGIN (execution option WRITE_TRANSACTION), so two processes never
    # deadlock upgrading a read lock; readers begin plainly and never block the writer in WAL.
    # On the driver's connection itself: SQLAlchemy's execution path costs more than the BEGIN.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def database_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the URL; SQLite gets WAL, full sync and immediate transactions."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    database = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
    event.listen(database, "connect", _tune_sqlite)
    event.listen(database, "begin", _begin)
    return database


def migrate(database: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest revision, or to `revision` (idempotent)."""
    _alembic(database, command.upgrade, revision)


def current_revision(database: Engine) -> str | None:
    """The schema revision the store is at; None for an empty store."""
    with database.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate_down(database: Engine, revision: str) -> None:
    """Take the schema back to `revision` (for testing that migrations undo)."""
    _alembic(database, command.downgrade, revision)


def _alembic(database: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with database.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
