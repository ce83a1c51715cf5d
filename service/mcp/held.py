"""Calls the gate routed to people, remembered so that their retry can use the approval.

In memory by default; with `held_calls_file` in the configuration, in a SQLite file, so a
restarted proxy still knows which decision an approved call belongs to."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Held:
    """A held call: its decision, and the proposal the decision was made for."""

    decision_id: str
    proposal: dict[str, Any]


class HeldCalls:
    """Held calls by call identity, each until `seconds` after it was held."""

    def __init__(self, path: Path | None, *, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS held (identity TEXT PRIMARY KEY, decision_id TEXT,"
                " proposal TEXT, until REAL)"
            )

    def get(self, identity: str) -> Held | None:
        """The held call with this identity, if it has not lapsed."""
        with self._lock:
            row = self._db.execute(
                "SELECT decision_id, proposal FROM held WHERE identity = ? AND until > ?",
                (identity, time.time()),
            ).fetchone()
        return None if row is None else Held(row[0], json.loads(row[1]))

    def put(self, identity: str, held: Held) -> None:
        """Remember a held call (replacing an older one with the same identity)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM held WHERE until <= ?", (time.time(),))
            self._db.execute(
                "INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?)",
                (
                    identity,
                    held.decision_id,
                    json.dumps(held.proposal),
                    time.time() + self._seconds,
                ),
            )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
