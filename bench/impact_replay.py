"""Impact analysis over a large recorded history: time and peak memory of `replay_impact`.

A SQLite store gets N recorded `decision` events (default 1,000,000), written straight into
the log table, as the gateway would have written them: proposals from D distinct shapes
(default 5,000: action types, amounts, environments, targets and scopes), each event with
its own idempotency key, each recorded decision the one the active pack gives. Then a
candidate with a lower autonomous limit is replayed against all of them. A decision is
evaluated once per distinct proposal and scopes; `--distinct` equal to `--events` prices a
history whose proposals are all distinct.

    python -m bench.impact_replay [--events N] [--distinct D]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import uuid_utils
import yaml
from sqlalchemy import insert

from policy.context import Agent
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.audit.event import decision_event
from service.audit.tables import AUDIT_EVENTS
from service.candidates.impact import replay_impact
from service.engines import replay_gate
from service.settings import Settings, bundled_rules
from service.store.database import database_engine, migrate
from service.store.utc import utc_now

TYPES = [
    ("billing.invoice.adjust", True),
    ("payments.refund.issue", True),
    ("payments.payout.create", True),
    ("crm.contact.update", False),
    ("knowledge.search", False),
    ("email.customer.send", False),
    ("ticket.update", False),
    ("data.export", False),
]


def _shape(rng: random.Random) -> tuple[dict[str, Any], tuple[str, ...]]:
    kind, money = rng.choice(TYPES)
    action: dict[str, Any] = {
        "type": kind,
        "environment": rng.choice(["production", "staging", "sandbox"]),
    }
    if money:
        action["amount"] = {"value": rng.choice(range(10, 5000, 10)), "currency": "USD"}
        action["target"] = f"acct-{rng.randrange(50)}"
    if kind == "data.export":
        action["target"] = rng.choice(["warehouse.internal", "dropbox://personal"])
    proposal = {
        "action": action,
        "work_item": {"id": f"WI-{rng.randrange(1000)}", "type": "billing-dispute"},
        "justification": "as the ticket asks",
        "confidence": rng.choice([0.5, 0.9]),
    }
    if kind == "crm.contact.update":
        proposal["changes"] = [{"record": "c-1", "field": "phone", "from": "1", "to": "2"}]
    return proposal, rng.choice([("*",), ("crm.*", "knowledge.*")])


def _fill(url: str, events: int, distinct: int) -> None:
    settings = Settings(database_url=url, rules=bundled_rules())
    gate = replay_gate(settings, load_rule_pack(bundled_rules()))
    rng = random.Random(7)
    shapes = []
    for _ in range(distinct):
        body, scopes = _shape(rng)
        agent = Agent(id=f"agent-{rng.randrange(20)}", name="bench", scopes=scopes)
        shapes.append((body, agent, gate.decide(Proposal.model_validate(body), agent)))
    gate.close()
    database = database_engine(url)
    migrate(database)
    start = utc_now() - timedelta(hours=12)
    batch: list[dict[str, Any]] = []
    with database.begin() as connection:
        for index in range(events):
            body, agent, decided = shapes[index % distinct]
            proposal = Proposal.model_validate(body | {"idempotency_key": f"k-{index}"})
            at = start + timedelta(milliseconds=index * 40)
            event = decision_event(
                event_id=str(uuid_utils.uuid7()),
                proposal=proposal,
                agent=agent,
                decision=decided,
                recorded_at=at,
            )
            batch.append(
                {
                    "seq": index + 10,
                    "kind": "decision",
                    "recorded_at": at,
                    "decision_id": f"d-{index}",
                    "event_id": event["event_id"],
                    "event": json.dumps(event),
                    "prev_hash": "x",
                    "hash": f"h-{index}",
                }
            )
            if len(batch) == 5000:
                connection.execute(insert(AUDIT_EVENTS), batch)
                batch.clear()
        if batch:
            connection.execute(insert(AUDIT_EVENTS), batch)
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'history.db'}"
        started = time.perf_counter()
        _fill(url, args.events, args.distinct)
        print(
            f"wrote {args.events:,} events ({args.distinct:,} distinct proposals) in "
            f"{time.perf_counter() - started:.0f} s"
        )
        candidate = Path(directory) / "candidate"
        shutil.copytree(bundled_rules(), candidate)
        limits_file = candidate / "data" / "limits.yaml"
        limits = yaml.safe_load(limits_file.read_text())
        limits["autonomous_limit"]["USD"] = 500
        limits_file.write_text(yaml.safe_dump(limits))
        settings = Settings(database_url=url, rules=bundled_rules())
        active = replay_gate(settings, load_rule_pack(bundled_rules()))
        proposed = replay_gate(settings, load_rule_pack(candidate))
        database = database_engine(url)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = replay_impact(
            database, active, proposed, since=utc_now() - timedelta(days=1), until=utc_now()
        )
        took = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"replayed {report.replayed:,}, changed {report.changed:,}, unreplayable "
            f"{report.unreplayable:,}; fidelity "
            f"{report.fidelity.same:,}/{report.fidelity.replayed:,}"
        )
        print(
            f"impact over {args.events:,} decisions: {took:.1f} s "
            f"({args.events / took:,.0f} decisions/s), peak RSS {peak / 1024:.0f} MiB "
            f"(before the replay {before / 1024:.0f} MiB)"
        )
        active.close()
        proposed.close()


if __name__ == "__main__":
    main()
