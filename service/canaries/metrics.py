"""The canaries' metrics, read from the store at each scrape: answers to known-answer checks
by queue and by whether they were right (and by reviewer, only when the operator names
reviewers: `SLUICEGATE_METRICS_NAME_REVIEWERS`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select

from policy.pack_data import Canaries
from service.auth.principals import names_and_owners
from service.reviews.tables import REVIEW_TASKS

_RESOLVES_AS = {"approve": "approved", "reject": "rejected"}


class _CanaryCollector(Collector):
    def __init__(self, database: Engine, canaries: Canaries, *, name_reviewers: bool) -> None:
        self._database = database
        self._canaries = canaries
        self._name_reviewers = name_reviewers

    def collect(self) -> Iterator[Metric]:
        labels = ["queue", "answer", *(["reviewer"] if self._name_reviewers else [])]
        answers = CounterMetricFamily(
            "sluicegate_canary_answers",
            "Known-answer checks resolved: right, wrong, or expired unanswered",
            labels=labels,
        )
        with self._database.connect() as connection:
            rows = connection.execute(
                select(
                    REVIEW_TASKS.c.queue,
                    REVIEW_TASKS.c.canary_id,
                    REVIEW_TASKS.c.state,
                    REVIEW_TASKS.c.resolved_by,
                ).where(
                    REVIEW_TASKS.c.canary_id.is_not(None),
                    REVIEW_TASKS.c.state.in_(("approved", "rejected", "expired")),
                )
            ).all()
            names = (
                names_and_owners(connection, {str(r.resolved_by) for r in rows if r.resolved_by})
                if self._name_reviewers
                else {}
            )
        counted: Counter[tuple[str, ...]] = Counter()
        for row in rows:
            canary = self._canaries.of(str(row.canary_id))
            if canary is None:
                continue  # a canary the pack no longer has: its events still tell
            answer = (
                "expired"
                if row.state == "expired"
                else ("right" if row.state == _RESOLVES_AS[canary.expect] else "wrong")
            )
            key: tuple[str, ...] = (str(row.queue), answer)
            if self._name_reviewers:
                who = names.get(str(row.resolved_by))
                key += (who[0] if who else "",)
            counted[key] += 1
        for key, count in sorted(counted.items()):
            answers.add_metric(list(key), count)
        yield answers


def register_canary_metrics(
    registry: CollectorRegistry, database: Engine, canaries: Canaries, *, name_reviewers: bool
) -> None:
    """Read the canaries' answers from `database` at each scrape of `registry`."""
    registry.register(_CanaryCollector(database, canaries, name_reviewers=name_reviewers))
