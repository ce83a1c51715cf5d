"""The hot path's statements on the driver's cursor: inserts store exactly what SQLAlchemy's own
INSERT stores (the same text for timestamps, the same JSON, the same defaults), and driver
errors are raised as SQLAlchemy raises them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from service.decisions.tables import DECISIONS
from service.store.database import database_engine, migrate
from service.store.driver import BulkInsert, first_row

MOMENT = datetime(2026, 12, 6, 7, 30, 0, 123456, tzinfo=UTC)


def _decision(decision_id: str, claims: dict[str, Any] | None, **more: Any) -> dict[str, Any]:
    return {
        "permit_claims": claims,
        "permit_kid": "k1" if claims else None,
        "decision_id": decision_id,
        "principal_id": "p1",
        "idempotency_key": None,
        "request_digest": "sha256:r",
        "action_type": "crm.contact.update",
        "outcome": "sample",
        "risk_tier": 1,
        "body": "{}",
        "created_at": MOMENT,
        **more,
    }


def _stored(url: str) -> dict[str, tuple[Any, ...]]:
    """Every decision row as the store holds it (each column read as text), by id."""
    database = database_engine(url)
    names = [column.name for column in DECISIONS.columns if column.name != "decision_id"]
    columns = ", ".join(f"CAST({name} AS TEXT)" for name in names)
    try:
        with database.connect() as connection:
            rows = connection.execute(text(f"SELECT decision_id, {columns} FROM decisions"))
            return {row[0]: tuple(row[1:]) for row in rows}
    finally:
        database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_rows_are_stored_as_sqlalchemys_insert_stores_them(database_url: str) -> None:
    database = database_engine(database_url)
    migrate(database)
    claims = {"jti": "x", "exp": 1, "dig": "é€😀"}
    with database.begin() as connection:
        connection.execute(
            insert(DECISIONS), [_decision("core-1", None), _decision("core-2", claims)]
        )
        inserts = BulkInsert(DECISIONS)
        inserts.run(connection, [_decision("driver-1", None), _decision("driver-2", claims)])
        # Two sets of keys in one call: one statement each, the left-out column its default.
        inserts.run(
            connection,
            [_decision("mixed-1", None, lifecycle_version=3), _decision("mixed-2", None)],
        )
    database.dispose()
    rows = _stored(database_url)
    assert rows["driver-1"] == rows["core-1"]
    assert rows["driver-2"] == rows["core-2"]
    assert rows["mixed-2"] == rows["core-1"]
    assert rows["mixed-1"] != rows["core-1"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_refused_row_raises_what_sqlalchemy_raises(database_url: str) -> None:
    database = database_engine(database_url)
    migrate(database)
    with database.begin() as connection:
        BulkInsert(DECISIONS).run(connection, [_decision("twice", None)])
    with pytest.raises(IntegrityError), database.begin() as connection:
        BulkInsert(DECISIONS).run(connection, [_decision("twice", None)])
    database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_query_reads_its_first_row_and_its_errors_are_sqlalchemys(database_url: str) -> None:
    database = database_engine(database_url)
    migrate(database)
    with database.begin() as connection:
        BulkInsert(DECISIONS).run(connection, [_decision("only", None)])
        assert first_row(connection, "SELECT decision_id FROM decisions") == ("only",)
        assert first_row(connection, "SELECT decision_id FROM decisions WHERE 1 = 0") is None
    with pytest.raises((ProgrammingError, OperationalError)), database.begin() as connection:
        first_row(connection, "SELECT nothing FROM nowhere")
    database.dispose()


def test_a_column_without_a_constant_default_is_refused() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("v", String, default=func.lower("X")),
    )
    database = database_engine("sqlite://")
    table.metadata.create_all(database)
    with database.begin() as connection, pytest.raises(ValueError, match="no constant default"):
        BulkInsert(table).run(connection, [{"id": 1}])
