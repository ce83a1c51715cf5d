"""Rows inserted with the driver's `executemany`, the statement compiled once per dialect and
set of columns: the hot path's inserts without SQLAlchemy's per-execution work (statement
cache keys, execution contexts, result objects), which costs more than the insert itself.

Values go through each column type's own bind processor, as SQLAlchemy would send them (a UTC
timestamp becomes naive UTC, SQLite's text form), and the rows run on the connection's current
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import ScalarElementColumnDefault


class BulkInsert:
    """INSERTs into one table; each distinct set of columns is compiled once per dialect."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def run(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` in the connection's transaction (one `executemany` per set of keys)."""
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_keys.setdefault(tuple(row), []).append(row)
        for keys, same in by_keys.items():
            compiled = self._compiled.get((connection.dialect.name, keys))
            if compiled is None:
                compiled = _Compiled(self._table, connection, keys)
                self._compiled[(connection.dialect.name, keys)] = compiled
            compiled.run(connection, same)


class _Compiled:
    def __init__(self, table: Table, connection: Connection, keys: tuple[str, ...]) -> None:
        dialect = connection.dialect
        statement = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(statement)
        self.order: list[str] | None = statement.positiontup  # qmark drivers take tuples
        # Columns left out whose default SQLAlchemy renders as a parameter: their constant.
        self.defaults: dict[str, Any] = {}
        for name in statement.params:
            if name not in keys:
                column = table.c.get(name)  # a parameter of a SQL default is no column
                default = column.default if column is not None else None
                if not isinstance(default, ScalarElementColumnDefault):
                    raise ValueError(f"{table.name}: {name} has no constant default to insert")
                self.defaults[name] = default.arg
        processors: dict[str, Callable[[Any], Any]] = {}
        for key in (*keys, *self.defaults):
            processor = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[key] = processor
        self.processors = processors

    def run(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        processors, defaults = self.processors, self.defaults
        prepared = [
            {
                key: processors[key](value) if key in processors else value
                for key, value in (row | defaults if defaults else row).items()
            }
            for row in rows
        ]
        order = self.order
        parameters: list[Any] = (
            [tuple(row[key] for key in order) for row in prepared]
            if order is not None
            else prepared
        )
        driver_error = connection.dialect.loaded_dbapi.Error
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(self.sql, parameters)
        except driver_error as exc:
            # Raised as SQLAlchemy raises it (IntegrityError, OperationalError, ...), so callers
            # tell a refused row from a store that is down as they do for any statement.
            raise DBAPIError.instance(self.sql, None, exc, driver_error) from exc
        finally:
            cursor.close()
