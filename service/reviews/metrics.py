"""The reviews' metrics, read from the shared store at each scrape: the queues' depth and
oldest pending age, and the incidents people found, by cause (rejections and "should not
have happened" findings). `register_review_metrics` adds them to a gateway's registry."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, or_, select

from service.reviews.tables import REVIEW_TASKS
from service.store.utc import utc_now


class _QueueCollector(Collector):
    """Open blocking reviews per queue, and how long the oldest has waited."""

    def __init__(self, database: Engine) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "sluicegate_review_queue_depth", "Open blocking reviews", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "sluicegate_review_oldest_pending_seconds",
            "Age of the oldest open blocking review",
            labels=["queue"],
        )
        now = utc_now()
        with self._database.connect() as connection:
            rows = connection.execute(
                select(REVIEW_TASKS.c.queue, func.count(), func.min(REVIEW_TASKS.c.created_at))
                .where(
                    REVIEW_TASKS.c.state == "open",
                    REVIEW_TASKS.c.kind == "blocking",
                    REVIEW_TASKS.c.canary_id.is_(None),  # real work only
                )
                .group_by(REVIEW_TASKS.c.queue)
            ).all()
        for queue, count, first in rows:  # min() keeps the column's type: an aware datetime
            depth.add_metric([queue], count)
            oldest.add_metric([queue], (now - first).total_seconds())
        yield depth
        yield oldest


class _IncidentCollector(Collector):
    """Rejections and "should not have happened" findings so far, by cause (for rates)."""

    def __init__(self, database: Engine) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        incidents = CounterMetricFamily(
            "sluicegate_incidents",
            "Rejected actions and sampled actions that should not have happened, by cause",
            labels=["cause"],
        )
        rejected = and_(REVIEW_TASKS.c.kind == "blocking", REVIEW_TASKS.c.state == "rejected")
        found = and_(
            REVIEW_TASKS.c.kind == "post_hoc", REVIEW_TASKS.c.verdict == "should_not_have_happened"
        )
        with self._database.connect() as connection:
            rows = connection.execute(
                select(REVIEW_TASKS.c.cause, func.count())
                .where(or_(rejected, found), REVIEW_TASKS.c.canary_id.is_(None))
                .group_by(REVIEW_TASKS.c.cause)
            ).all()
        by_cause: dict[str, int] = {}
        for cause, count in rows:  # records from before causes existed count as other
            by_cause[cause or "other"] = by_cause.get(cause or "other", 0) + count
        for cause, count in sorted(by_cause.items()):
            incidents.add_metric([cause], count)
        yield incidents


def register_review_metrics(registry: CollectorRegistry, database: Engine) -> None:
    """Read the queues and incidents from `database` at each scrape of `registry`."""
    registry.register(_QueueCollector(database))
    registry.register(_IncidentCollector(database))
