"""Hot-path statements on the driver's own cursor, in the connection's current transaction:
without SQLAlchemy's per-execution work (statement cache keys, execution contexts, result
objects), which costs more than a one-row statement itself.

`BulkInsert` compiles an INSERT once per dialect and set of columns and runs it with
`executemany`; values go through each column type's own bind processor, as SQLAlchemy would
send them (a UTC timestamp becomes naive UTC, SQLite's text form). `first_row` runs a constant
query. Either raises a driver error as SQLAlchemy raises it (IntegrityError, OperationalError,
...), so callers tell a refused row from a store that is down as they do for any statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import ScalarElementColumnDefault


@contextmanager
def _cursor(connection: Connection, sql: str) -> Iterator[Any]:
    driver_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except driver_error as exc:
        raise DBAPIError.instance(sql, None, exc, driver_error) from exc
    finally:
        cursor.close()


def first_row(connection: Connection, sql: str) -> Any:
    """The first row of a constant query (no parameters), or None."""
    with _cursor(connection, sql) as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


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
        # Columns left out whose default SQLAlchemy renders as a parameter: their constant.
        self.defaults: dict[str, Any] = {}
        for name in statement.params:
            if name not in keys:
                column = table.c.get(name)  # a parameter of a SQL default is no column
                default = column.default if column is not None else None
                if not isinstance(default, ScalarElementColumnDefault):
                    raise ValueError(f"{table.name}: {name} has no constant default to insert")
                self.defaults[name] = default.arg
        # Each parameter in the statement's order (qmark drivers take tuples), with its
        # column's bind processor, if it has one.
        self.positional = statement.positiontup is not None
        names = statement.positiontup or [*keys, *self.defaults]
        self.names = list(names)
        self.processors: list[Callable[[Any], Any] | None] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ]

    def run(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        names, processors, defaults = self.names, self.processors, self.defaults
        parameters: list[Any] = []
        for row in rows:
            values = row | defaults if defaults else row
            sent = [
                put(values[name]) if put else values[name]
                for name, put in zip(names, processors, strict=True)
            ]
            parameters.append(
                tuple(sent) if self.positional else dict(zip(names, sent, strict=True))
            )
        with _cursor(connection, self.sql) as cursor:
            cursor.executemany(self.sql, parameters)
