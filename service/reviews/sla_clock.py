"""The SLA clock: a thread in every gateway process that applies `on_timeout` to due reviews.

Running it in several processes is safe: each timeout is a compare-and-set in the database
(`ReviewDesk.apply_timeouts`), so a review times out (or escalates) exactly once.
"""

from __future__ import annotations

from service.periodic import Periodic
from service.reviews.desk import ReviewDesk


def sla_clock(desk: ReviewDesk, *, tick_seconds: float) -> Periodic:
    """A thread that sweeps for due reviews every `tick_seconds` once started."""
    return Periodic("sla-clock", desk.apply_timeouts, seconds=tick_seconds)
