"""The SLA clock: a thread in every gateway process that applies `on_timeout` to due reviews.

Running it in several processes is safe: each timeout is a compare-and-set in the database
(`ReviewDesk.apply_timeouts`), so a review times out (or escalates) exactly once.
"""

from __future__ import annotations

import logging
import threading

from service.reviews.desk import ReviewDesk

log = logging.getLogger(__name__)


class SlaClock:
    """Sweeps for due reviews every `tick_seconds` until stopped."""

    def __init__(self, desk: ReviewDesk, *, tick_seconds: float) -> None:
        self._desk = desk
        self._tick = tick_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sla-clock", daemon=True)

    def start(self) -> None:
        """Start sweeping."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the sweep in flight."""
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.wait(self._tick):
            try:
                moved = self._desk.apply_timeouts()
            except Exception as exc:  # a store outage must not end the clock
                log.warning("SLA sweep failed: %s", type(exc).__name__)
                continue
            if moved:
                log.info("SLA clock: %d review(s) timed out or escalated", moved)
