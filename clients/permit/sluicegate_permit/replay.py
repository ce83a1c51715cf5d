"""Single use: a permit's `jti` is remembered until the permit expires."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol


class ReplayCache(Protocol):
    """Where used permits are remembered."""

    def first_use(self, jti: str, expires_at: int) -> bool:
        """Record `jti` as used until `expires_at` (Unix seconds); False if it was already."""
        ...


class MemoryReplayCache:
    """In this process only: enough for one instance of a target system."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_use(self, jti: str, expires_at: int) -> bool:
        now = int(time.time())
        with self._lock:
            self._seen = {k: exp for k, exp in self._seen.items() if exp >= now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires_at
            return True


class SqliteReplayCache:
    """In a SQLite file: shared by the processes of one host, kept across restarts."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS used_permits (jti TEXT PRIMARY KEY, expires_at INT)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=5, isolation_level=None)

    def first_use(self, jti: str, expires_at: int) -> bool:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM used_permits WHERE expires_at < ?", (int(time.time()),))
            inserted = connection.execute(
                "INSERT OR IGNORE INTO used_permits (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            ).rowcount
            connection.execute("COMMIT")
        finally:
            connection.close()
        return inserted == 1
