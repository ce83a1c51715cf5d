"""Prometheus metrics: decisions by outcome and their latency (this process), and, read from
the shared store at each scrape, the review queues' depth and oldest pending age, and the
incidents people found, by cause (rejections and "should not have happened" findings)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, or_, select

from service.reviews.tables import REVIEW_TASKS
from service.store.utc import utc_now

# From a fast embedded decision (about 1 ms) to a slow one waiting on its group commit.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


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
                .where(REVIEW_TASKS.c.state == "open", REVIEW_TASKS.c.kind == "blocking")
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
                .where(or_(rejected, found))
                .group_by(REVIEW_TASKS.c.cause)
            ).all()
        by_cause: dict[str, int] = {}
        for cause, count in rows:  # records from before causes existed count as other
            by_cause[cause or "other"] = by_cause.get(cause or "other", 0) + count
        for cause, count in sorted(by_cause.items()):
            incidents.add_metric([cause], count)
        yield incidents


class GatewayMetrics:
    """One registry per gateway (so tests can run several in one process)."""

    def __init__(self, database: Engine) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "sluicegate_decisions",
            "Decisions answered, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sluicegate_decision_seconds",
            "Time from a proposal's arrival to its recorded answer",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_QueueCollector(database))
        self.registry.register(_IncidentCollector(database))
