"""Waking long polls when a review resolves.

A resolution in this process wakes its waiters at once. On PostgreSQL, every resolution is
also announced to the other replicas (`announce_resolved`, a NOTIFY delivered at commit),
whose listener wakes their waiters at once too. Waiters still re-read the store every
`poll_seconds`, which is how a replica on SQLite, or one whose listener is reconnecting,
learns of a resolution elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

from sqlalchemy import Connection

from service.reviews.models import Review
from service.store.notifications import announce

# The PostgreSQL channel on which resolutions are announced to every replica.
RESOLVED_CHANNEL = "sluicegate_review_resolved"


def announce_resolved(connection: Connection, review: Review) -> None:
    """Tell every replica, when this transaction commits, that the review resolved."""
    announce(connection, RESOLVED_CHANNEL, review.decision_id)


class ResolutionWatch:
    """Long-poll waiters by decision id; `resolved` may be called from any thread."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self._lock = threading.Lock()

    async def wait(self, decision_id: str, timeout: float) -> bool:
        """Return when the decision's review resolves (True), or after `timeout` seconds
        (False)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters[decision_id].add(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return False
        else:
            return True
        finally:
            with self._lock:
                waiting = self._waiters.get(decision_id)
                if waiting is not None:
                    waiting.discard(future)
                    if not waiting:
                        del self._waiters[decision_id]

    def resolved(self, decision_id: str) -> None:
        """Wake everyone waiting on the decision."""
        with self._lock:
            futures = list(self._waiters.get(decision_id, ()))
        for future in futures:
            future.get_loop().call_soon_threadsafe(_settle, future)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
