"""Telling every gateway on a PostgreSQL store that something happened, at once.

`announce` queues a PostgreSQL NOTIFY inside the caller's transaction, so it is delivered
when (and only if) that transaction commits. `Listener` keeps one connection per gateway
LISTENing and hands each payload to a callback. On SQLite there is nothing to deliver to:
other processes learn by re-reading the store, as before."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
# Seconds between checks for a stop, and before reconnecting after a failure.
_WAKE_SECONDS = 1.0


def announce(connection: Connection, channel: str, payload: str) -> None:
    """Notify the channel when this transaction commits (PostgreSQL; nothing on SQLite)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


class Listener:
    """A thread that LISTENs on a channel and calls `on_message(payload)` for each notice;
    it reconnects after a failure. Use only on PostgreSQL."""

    def __init__(self, database: Engine, channel: str, on_message: Callable[[str], None]) -> None:
        url = database.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._channel = channel
        self._on_message = on_message
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    def start(self) -> None:
        """Start listening."""
        self._thread.start()

    def stop(self) -> None:
        """Stop within a second."""
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f'LISTEN "{self._channel}"')  # a name of ours
                    while not self._stopped.is_set():
                        for notice in connection.notifies(timeout=_WAKE_SECONDS):
                            self._on_message(notice.payload)
            except psycopg.Error as exc:
                log.warning(
                    "listening on %s failed (%s); again shortly", self._channel, type(exc).__name__
                )
                self._stopped.wait(_WAKE_SECONDS)
