"""How soon a waiting agent hears an approval: the long poll's latency after the approve call.

Two cases, one run: (same) the agent polls the gateway the reviewer approves on, which wakes
the poll at once; (other) two gateway processes share one SQLite store, the agent polls one
and the reviewer approves on the other, so the poll learns of it by re-reading the store
(every `SLUICEGATE_LONG_POLL_RECHECK_SECONDS`, 0.5 s). Prints p50, p90 and max in
milliseconds. Usage: `.venv/bin/python -m bench.review_wait` (ROUNDS=100 by default).

With `--postgres URL` (an empty database) it also runs both cases on PostgreSQL, where the
approving gateway's NOTIFY wakes the poll on the other at once; `--postgres auto` (what
`make bench` passes) starts a throwaway cluster from Debian's server binaries, as the tests
do, and says so when there are none.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from pydantic import SecretStr

from bench.postgres import throwaway_cluster
from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import REFUND
from tests.loopback import serving

ROUNDS = int(os.environ.get("ROUNDS", "100"))


def _one(agent: httpx.Client, reviewer: httpx.Client) -> float:
    decision = agent.post("/v1/decisions", json=REFUND).json()
    heard: list[float] = []

    def poll() -> None:
        agent.get(f"/v1/decisions/{decision['decision_id']}", params={"wait": 30})
        heard.append(time.perf_counter())

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.2)  # the poll is parked in the gateway
    reviewer.post(f"/v1/reviews/{decision['review']['id']}/approve", json={})
    approved = time.perf_counter()
    waiting.join()
    return (heard[0] - approved) * 1000


def _report(name: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)

    def rank(q: float) -> float:  # nearest rank
        return ordered[max(0, math.ceil(len(ordered) * q) - 1)]

    print(
        f"{name:<32} p50 {statistics.median(ordered):7.1f} ms   p90 {rank(0.9):7.1f} ms   "
        f"p99 {rank(0.99):7.1f} ms   max {ordered[-1]:7.1f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="long-poll latency after an approval")
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL")
    postgres = parser.parse_args().postgres
    with tempfile.TemporaryDirectory() as folder:
        _cases(f"sqlite:///{Path(folder) / 'gate.db'}", "SQLite")
    if postgres == "auto":
        try:
            cluster = throwaway_cluster(durable=False)  # wake-ups, not commits
        except Exception as exc:  # no server binaries: the figure is missing, and says why
            print(f"PostgreSQL: not measured ({exc})")
            return
        with cluster as running:
            _cases(running.database(), "PostgreSQL")
    elif postgres:
        _cases(postgres, "PostgreSQL")


def _cases(url: str, store: str) -> None:
    with ExitStack() as stack:
        engine = database_engine(url)
        migrate(engine)
        _, agent_key = create_key(engine, name="agent", role=Role.AGENT, scopes=["*"])
        _, fiona_key = create_key(
            engine, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        engine.dispose()
        key = SecretStr(new_private_pem()) if not url.startswith("sqlite") else None
        settings = Settings(database_url=url, audit_signing_key=key)
        first = stack.enter_context(serving(settings))
        second = stack.enter_context(serving(settings))

        def client(base: str, key: str) -> httpx.Client:
            headers = {"Authorization": f"Bearer {key}"}
            return stack.enter_context(httpx.Client(base_url=base, headers=headers, timeout=40))

        agent = client(first, agent_key)
        for name, reviewer in (
            (f"{store}, same gateway", client(first, fiona_key)),
            (f"{store}, other gateway", client(second, fiona_key)),
        ):
            _report(name, [_one(agent, reviewer) for _ in range(ROUNDS)])


if __name__ == "__main__":
    main()
