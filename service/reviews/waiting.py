"""Waking long polls when a review resolves in this process.

A review resolved by another replica (or by the SLA clock there) is not announced here, so
waiters also re-read the store every `poll_seconds`; an approval anywhere reaches the
waiting agent within that interval, and at once when it happened in this process.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict


class ResolutionWatch:
    """Long-poll waiters by decision id; `resolved` may be called from any thread."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self._lock = threading.Lock()

    async def wait(self, decision_id: str, timeout: float) -> None:
        """Return when the decision's review resolves here, or after `timeout` seconds."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters[decision_id].add(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            pass
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
