"""Exports of decisions: NDJSON shaped like OPA's decision-log events, and CSV for sheets.

Both stream: rows are written as they are read, so an export of any size holds one batch
in memory. Values the rule pack masks were never stored, so no export can contain them.

CSV cells hold what agents wrote (a work item id, say), and a spreadsheet runs a cell that
starts like a formula: each such cell is neutralised as OWASP recommends (a leading `'`).
The NDJSON export is data for programs and keeps every value as recorded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from service.audit.query import AuditEvent, EventFilter, stream_events

DECISION_PATH = "sluicegate/verdicts"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "decision_id",
    "timestamp",
    "seq",
    "hash",
    "agent_id",
    "action_type",
    "environment",
    "outcome",
    "risk_tier",
    "reversibility",
    "policy_revision",
    "work_item",
    "queue",
    "rules",
    "fail_closed",
    "erased",
)


def decision_log_entry(event: AuditEvent) -> dict[str, Any]:
    """One decision in the shape of OPA's decision-log event (`decision_id`, `path`, `input`,
    `result`, `bundles`, `timestamp`, `labels`), plus `erased` and the chain position."""
    document = event.event
    decision = document["decision"]
    agent = document.get("agent", {})
    return {
        "decision_id": event.decision_id,
        "path": DECISION_PATH,
        "input": document["proposal"],
        "input_digest": document.get("proposal_digest"),
        "result": decision,
        "bundles": {"sluicegate": {"revision": decision["policy"]["revision"]}},
        "timestamp": document["recorded_at"],
        "labels": {"agent_id": agent.get("id", ""), "agent_name": agent.get("name", "")},
        "erased": document.get("erased", []),
        "audit": {"seq": event.seq, "hash": event.hash},
    }


def csv_cell(value: Any) -> Any:
    """A value as a spreadsheet may hold it: text that starts like a formula gets a leading
    `'`, so it is shown, never run; numbers and empty cells are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_row(event: AuditEvent) -> list[Any]:
    document = event.event
    decision = document["decision"]
    proposal = document["proposal"]
    row = [
        event.decision_id,
        document["recorded_at"],
        event.seq,
        event.hash,
        document.get("agent", {}).get("id"),
        proposal["action"]["type"],
        proposal["action"].get("environment"),
        decision["outcome"],
        decision["risk_tier"],
        decision["reversibility"],
        decision["policy"]["revision"],
        (proposal.get("work_item") or {}).get("id"),
        (decision.get("review") or {}).get("queue"),
        ";".join(sorted({r["rule"] for r in decision["reasons"]})),
        (decision.get("fail_closed") or {}).get("cause"),
        ";".join(document.get("erased", [])),
    ]
    return [csv_cell(value) for value in row]


def _decisions(database: Engine, wanted: EventFilter) -> Iterator[AuditEvent]:
    only_decisions = wanted.model_copy(update={"kind": "decision"})
    with database.connect() as connection:
        yield from stream_events(connection, only_decisions)


def export_ndjson(database: Engine, wanted: EventFilter) -> Iterator[bytes]:
    """Matching decisions, one JSON document per line."""
    for event in _decisions(database, wanted):
        yield json.dumps(decision_log_entry(event), separators=(",", ":")).encode() + b"\n"


def export_csv(database: Engine, wanted: EventFilter) -> Iterator[bytes]:
    """Matching decisions as CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in _decisions(database, wanted):
        writer.writerow(_csv_row(event))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
