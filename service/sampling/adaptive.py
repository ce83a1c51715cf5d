"""Adaptive post-hoc sampling: where the author made a rate adaptive, each action type's rate
follows the post-hoc verdicts of a rolling window, within the author's bounds.

One `AdaptiveRates` per gateway is the gate's rate source. Its worker recomputes every rate
from the store (`policy.sampling.adaptive_rates`: the author's review load, spent first on
the action types whose verdicts cannot rule out the most violations, within min and max).
It writes a change, with its evidence, to the `sampling_rates` table and the audit chain
(`sampling_rate_changed`) in one transaction, under the chain's lock, so that several
gateways never record one change twice. Every gateway then decides with the rates in the
table; the rate used is in each decision's event, and replays use that recorded rate."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select, update

from policy.pack_data import AdaptiveRate, PackData
from policy.proposal import Environment
from policy.sampling import Evidence, adaptive_rates, sample_rate
from service.audit.chain import lock_chain, record
from service.audit.query import EventFilter, recorded_decisions_of, stream_events
from service.periodic import Periodic
from service.reviews.models import PostHocVerdict
from service.reviews.tasks import post_hoc_verdicts
from service.sampling.tables import SAMPLING_RATES
from service.store.database import writing
from service.store.utc import utc_now

log = logging.getLogger(__name__)
CHANGED = "sampling_rate_changed"
# (action type, environment, tier)
Key = tuple[str, str, int]


class AdaptiveRates:
    """The effective post-hoc rates (callable as the gate's rate source) and their worker."""

    def __init__(
        self,
        database: Engine,
        data: PackData,
        *,
        tick_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._data = data
        self._clock = clock
        self._lock = threading.Lock()
        self._current: dict[Key, float] = {}
        self._worker = Periodic("adaptive-sampling", self.refresh, seconds=tick_seconds)

    def __call__(self, action_type: str, environment: Environment, risk_tier: int) -> float:
        """The rate the gate samples this action type at, at this tier in this environment."""
        bounds = self._data.sampling.rate(environment, risk_tier)
        if isinstance(bounds, AdaptiveRate) and bounds.adapt:
            with self._lock:
                found = self._current.get((action_type, str(environment), risk_tier))
            return found if found is not None else bounds.rate
        return sample_rate(self._data, environment, risk_tier)

    def start(self) -> None:
        """Load the current rates, then follow the evidence every tick."""
        self.reload()
        self._worker.start()

    def stop(self) -> None:
        """Stop the worker."""
        self._worker.stop()

    def refresh(self) -> int:
        """Recompute every adaptive rate from the window's verdicts, record those that
        changed, and reload; returns how many changed."""
        adaptive = self._adaptive()
        if not adaptive:
            return 0
        now = self._clock()
        with self._database.connect() as connection:
            evidence = _evidence(connection, since=now - self._data.sampling.adaptive.window)
        changed = 0
        for (environment, tier), bounds in adaptive.items():
            found = {
                key[0]: seen for key, seen in evidence.items() if key[1:] == (environment, tier)
            }
            rates = adaptive_rates(bounds, self._data.sampling.adaptive, found)
            # a type with a rate but no verdicts left in the window goes back to the author's
            for key in self._known():
                if key[1:] == (environment, tier) and key[0] not in rates:
                    rates[key[0]] = bounds.rate
            for action_type in sorted(rates):
                key = (action_type, environment, tier)
                seen = found.get(action_type, Evidence())
                changed += self._record(key, rates[action_type], seen, bounds, now)
        self.reload()
        return changed

    def reload(self) -> None:
        """Take the rates in the store (every gateway's latest)."""
        with self._database.connect() as connection:
            rows = connection.execute(select(SAMPLING_RATES)).all()
        current = {(row.action_type, row.environment, row.risk_tier): row.rate for row in rows}
        with self._lock:
            self._current = current

    def _known(self) -> list[Key]:
        with self._lock:
            return list(self._current)

    def _adaptive(self) -> dict[tuple[str, int], AdaptiveRate]:
        return {
            (environment.value, tier): rate
            for environment, tiers in self._data.sampling.rates.items()
            for tier, rate in tiers.items()
            if isinstance(rate, AdaptiveRate) and rate.adapt
        }

    def _record(
        self, key: Key, rate: float, found: Evidence, bounds: AdaptiveRate, now: datetime
    ) -> int:
        """Write the rate and its event when it differs from the stored one; 1 if it did."""
        with writing(self._database) as connection:
            lock_chain(connection)  # before reading: no other gateway records it meanwhile
            before = _stored(connection, key)
            if rate == (before if before is not None else bounds.rate):
                return 0
            values: dict[str, Any] = {
                "rate": rate,
                "reviewed": found.reviewed,
                "violations": found.violations,
                "changed_at": now,
            }
            where = _where(key)
            if before is None:
                row = dict(zip(("action_type", "environment", "risk_tier"), key, strict=True))
                connection.execute(insert(SAMPLING_RATES), [row | values])
            else:
                connection.execute(update(SAMPLING_RATES).where(*where).values(**values))
            how = self._data.sampling.adaptive
            body = {
                "subject": {"action_type": key[0], "risk_tier": key[2]},
                "sampling": {
                    "environment": key[1],
                    "from": before if before is not None else bounds.rate,
                    "to": rate,
                    "bounds": {"rate": bounds.rate, "min": bounds.min, "max": bounds.max},
                    "evidence": {
                        "window_seconds": how.window.total_seconds(),
                        "reviewed": found.reviewed,
                        "violations": found.violations,
                        "actions": round(found.actions, 1),
                        "confidence": how.confidence,
                        "min_reviews": how.min_reviews,
                    },
                },
            }
            record(connection, CHANGED, now=now, body=body)
        log.info("sampling: %s %s tier %d now %.4f", key[0], key[1], key[2], rate)
        return 1


def _evidence(connection: Connection, *, since: datetime) -> dict[Key, Evidence]:
    """Per (action type, environment, tier): the post-hoc verdicts since `since`, and the
    sampled actions they stand for (each verdict counts 1 / the rate its action was picked at,
    as recorded in its decision)."""
    verdicts = post_hoc_verdicts(connection, since=since)
    events = recorded_decisions_of(connection, (str(v.decision_id) for v in verdicts))
    reviewed: Counter[Key] = Counter()
    violations: Counter[Key] = Counter()
    actions: dict[Key, float] = {}
    for verdict in verdicts:
        event = events.get(str(verdict.decision_id))
        if event is None:
            continue
        environment = event.event["proposal"]["action"]["environment"]
        key = (str(verdict.action_type), str(environment), int(verdict.risk_tier))
        reviewed[key] += 1
        violations[key] += verdict.verdict == PostHocVerdict.SHOULD_NOT_HAVE_HAPPENED.value
        rate = (event.event["decision"].get("sample") or {}).get("rate") or 1.0
        actions[key] = actions.get(key, 0.0) + 1 / float(rate)
    return {key: Evidence(reviewed[key], violations[key], actions[key]) for key in reviewed}


def _where(key: Key) -> tuple[Any, ...]:
    return (
        SAMPLING_RATES.c.action_type == key[0],
        SAMPLING_RATES.c.environment == key[1],
        SAMPLING_RATES.c.risk_tier == key[2],
    )


def _stored(connection: Connection, key: Key) -> float | None:
    found: float | None = connection.execute(
        select(SAMPLING_RATES.c.rate).where(*_where(key))
    ).scalar()
    return found


class RateSeries(BaseModel):
    """One adaptive rate over time, from the author's rate through each recorded change."""

    action_type: str
    environment: str
    risk_tier: int
    low: float
    high: float
    points: list[tuple[datetime, float]]  # (since when, the rate)


def rate_series(database: Engine) -> list[RateSeries]:
    """Every adaptive rate that ever changed, as a series (the rules page's chart)."""
    series: dict[Key, RateSeries] = {}
    with database.connect() as connection:
        for event in stream_events(connection, EventFilter(kind=CHANGED)):
            document = event.event
            change, subject = document["sampling"], document["subject"]
            key = (subject["action_type"], change["environment"], subject["risk_tier"])
            if key not in series:
                bounds = change["bounds"]
                series[key] = RateSeries(
                    action_type=key[0],
                    environment=key[1],
                    risk_tier=key[2],
                    low=bounds["min"],
                    high=bounds["max"],
                    points=[(event.recorded_at, change["from"])],
                )
            series[key].points.append((event.recorded_at, change["to"]))
    return [series[key] for key in sorted(series)]
