"""Prometheus metrics of one gateway: a registry of its own (so tests can run several
gateways in one process), the counters the decision path increments, and a place for each
domain to register the collectors it owns (`reviews/metrics.py` reads the queues' depth
from the store at each scrape; the shadow evaluator counts its comparisons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# From a fast embedded decision (about 1 ms) to a slow one waiting on its group commit.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class GatewayMetrics:
    """One registry per gateway, with the decisions answered by outcome and their latency."""

    def __init__(self) -> None:
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
