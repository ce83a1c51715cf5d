"""Auditors' queries over a million events: how long each filter takes on this machine.

Fills a fresh SQLite store (the embedded default, WAL) with EVENTS generated decision events,
spread over 30 days, 200 agents, 12 action types, 4 outcomes, 5 pack revisions, 100,000
work items and two rules per event, through the real schema and its indexes. The chain
columns are filler: this measures queries, not hashing. Then runs each query the API runs
(`service/audit/query.py:query_events`, a page of 100) several times and prints the median
and the slowest, in milliseconds. Usage: `.venv/bin/python -m bench.audit_query`
(EVENTS=1000000 by default; the store is about 0.6 GB and takes a minute or two to fill).
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.audit.query import EventFilter, query_events
from service.store.database import database_engine, migrate

EVENTS = int(os.environ.get("EVENTS", "1000000"))
RUNS = 7
_BATCH = 50_000
_START = datetime(2026, 10, 1, tzinfo=UTC)
_ACTIONS = [f"domain{i}.thing.do" for i in range(11)] + ["payments.refund.issue"]
_OUTCOMES = ["allow"] * 6 + ["sample"] * 2 + ["route_to_human", "deny"]
_REVISIONS = [f"sha256:{i:064x}" for i in range(5)]
_RULES = ["autonomy.table", "money.irreversible_over_limit", "data.regulated", "change.bulk"]


def _rows(start: int, count: int, rng: random.Random) -> tuple[list[tuple], list[tuple]]:  # type: ignore[type-arg]
    events, rules = [], []
    for seq in range(start, start + count):
        action = rng.choice(_ACTIONS)
        outcome = rng.choice(_OUTCOMES)
        at = _START + timedelta(seconds=seq * 30 * 86_400 / EVENTS)
        document = {
            "kind": "decision",
            "agent": {"id": f"agent-{seq % 200}"},
            "proposal": {"action": {"type": action}, "work_item": {"id": f"WI-{seq % 100_000}"}},
            "decision": {"outcome": outcome, "risk_tier": seq % 4},
        }
        events.append(
            (
                seq,
                f"evt-{seq}",
                "decision",
                f"dec-{seq}",
                at.replace(tzinfo=None).isoformat(sep=" "),
                "sha256:prev",
                "sha256:this",
                json.dumps(document, separators=(",", ":")),
                f"agent-{seq % 200}",
                action,
                outcome,
                seq % 4,
                _REVISIONS[seq % 5],
                f"WI-{seq % 100_000}",
                "finance-approvers" if outcome == "route_to_human" else None,
            )
        )
        rules += [(_RULES[0], seq), (_RULES[1 + seq % 3], seq)]
    return events, rules


def _fill(path: Path) -> float:
    started = time.perf_counter()
    rng = random.Random(7)
    with sqlite3.connect(path) as db:
        for start in range(1, EVENTS + 1, _BATCH):
            events, rules = _rows(start, min(_BATCH, EVENTS - start + 1), rng)
            db.executemany(f"INSERT INTO audit_events VALUES ({','.join('?' * 15)})", events)
            db.executemany("INSERT INTO audit_event_rules (rule, seq) VALUES (?, ?)", rules)
        db.execute("ANALYZE")
    return time.perf_counter() - started


QUERIES: dict[str, tuple[EventFilter, str | None]] = {
    "no filter (first page)": (EventFilter(), None),
    "agent": (EventFilter(agent_id="agent-17"), None),
    "action type + outcome": (
        EventFilter(action_type="payments.refund.issue", outcome="deny"),
        None,
    ),
    "rule": (EventFilter(rule="change.bulk"), None),
    "risk tier + revision": (EventFilter(risk_tier=3, policy_revision=_REVISIONS[2]), None),
    "work item (rare: 10 events)": (EventFilter(work_item="WI-4242"), None),
    "queue": (EventFilter(queue="finance-approvers"), None),
    "one day": (
        EventFilter(since=_START + timedelta(days=20), until=_START + timedelta(days=21)),
        None,
    ),
    "kind that no event has": (EventFilter(kind="review_expired"), None),
    "agent + outcome, both indexed": (EventFilter(agent_id="agent-3", outcome="deny"), None),
    "agent, deep page (after seq 900,000)": (EventFilter(agent_id="agent-17"), "seq:900000"),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.db"
        engine = database_engine(f"sqlite:///{path}")
        migrate(engine)
        fill_seconds = _fill(path)
        size_mb = sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6
        print(f"{EVENTS:,} events written in {fill_seconds:.0f} s; store {size_mb:,.0f} MB")
        for name, (wanted, after) in QUERIES.items():
            cursor = (
                base64.urlsafe_b64encode(after.encode()).decode().rstrip("=") if after else None
            )
            timings, found = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                found = len(query_events(engine, wanted, limit=100, cursor=cursor).events)
                timings.append((time.perf_counter() - started) * 1000)
            print(
                f"{name:<40} {found:>3} events   median {statistics.median(timings):7.2f} ms"
                f"   slowest {max(timings):7.2f} ms"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
