"""The migrated store is exactly what the domains declare: every table in a domain's
`tables.py`, with its columns, types and indexes, is what Alembic's hand-written
migrations make, on both stores. A migration that forgets a column (or a declaration that
forgets an index a migration made) fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import service.audit.tables
import service.auth.tables
import service.candidates.tables
import service.decisions.tables
import service.held_calls.tables
import service.permits.tables
import service.reviews.tables
import service.sampling.tables
import service.slack.tables
import service.webhooks.tables
from service.store.database import database_engine, migrate

OWNERS = {
    service.audit.tables: {"audit_events", "audit_event_rules", "audit_checkpoints"},
    service.auth.tables: {"principals", "api_keys", "principal_identities", "ui_sessions"},
    service.candidates.tables: {"shadow_runs", "shadow_results"},
    service.decisions.tables: {"decisions", "budget_entries"},
    service.held_calls.tables: {"held_calls"},
    service.permits.tables: {"permit_keys"},
    service.reviews.tables: {"review_tasks"},
    service.sampling.tables: {"sampling_rates"},
    service.slack.tables: {"slack_messages"},
    service.webhooks.tables: {"webhooks", "webhook_deliveries"},
}


def test_each_table_is_declared_once_by_its_owner() -> None:
    declared = {name for names in OWNERS.values() for name in names}
    assert set(SQLModel.metadata.tables) == declared
    for module, names in OWNERS.items():
        rows = {v.__tablename__ for v in vars(module).values() if _is_row_of(v, module)}
        assert rows == names, module.__name__


def test_the_migrated_store_is_what_the_domains_declare(database_url: str) -> None:
    database = database_engine(database_url)
    try:
        migrate(database)
        with database.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), SQLModel.metadata
            )
    finally:
        database.dispose()
    assert differences == []


def _is_row_of(value: object, module: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, SQLModel)
        and value.__module__ == getattr(module, "__name__", None)
    )
