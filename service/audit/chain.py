"""Appending events to the audit chain inside the caller's write transaction.

The decision writer and every review step append through here, so the chain has one
definition of `seq`, `prev_hash` and `hash`, and an event commits or rolls back together
with the state change it records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, insert, select, text

from policy.decision import AuditRef
from service.audit.event import EVENT_VERSION, GENESIS_HASH, canonical, chain_hash
from service.audit.index import index_columns, rules_named
from service.audit.tables import AUDIT_EVENTS, AUDIT_RULES

# Any constant works; it names "the audit chain head" among PostgreSQL advisory locks.
_CHAIN_LOCK = 0x5B1C_E6A7


@dataclass(frozen=True)
class ChainEvent:
    """An event about to be appended: its document and the columns it is found by."""

    kind: str
    event_id: str
    decision_id: str | None
    recorded_at: datetime
    document: dict[str, Any]


def lock_chain(connection: Connection) -> None:
    """Hold the chain's head until the transaction ends: a transaction-scoped advisory lock on
    PostgreSQL (re-entrant within the transaction); on SQLite the write transaction already
    holds the database."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


def append(connection: Connection, events: Sequence[ChainEvent]) -> list[AuditRef]:
    """Append events in order after the current head; the caller's transaction commits them.

    The caller must hold a write transaction (`WRITE_TRANSACTION` on SQLite takes the database
    lock at BEGIN) and `lock_chain` (on PostgreSQL a transaction-scoped advisory lock
    serializes appenders from every replica, so two never read the same head). The decision
    writer takes the lock once per batch, before its idempotency check; `record` takes it.
    """
    if not events:
        return []
    head = connection.execute(
        select(AUDIT_EVENTS.c.seq, AUDIT_EVENTS.c.hash).order_by(AUDIT_EVENTS.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    refs: list[AuditRef] = []
    rows: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        event_bytes = canonical(event.document)
        this_hash = chain_hash(prev_hash, event_bytes)
        rows.append(
            {
                "seq": seq,
                "event_id": event.event_id,
                "kind": event.kind,
                "decision_id": event.decision_id,
                "recorded_at": event.recorded_at,
                "prev_hash": prev_hash,
                "hash": this_hash,
                "event": event_bytes.decode(),
                **index_columns(event.document),
            }
        )
        rules.extend({"rule": rule, "seq": seq} for rule in rules_named(event.document))
        refs.append(AuditRef(seq=seq, hash=this_hash))
        prev_hash = this_hash
    connection.execute(insert(AUDIT_EVENTS), rows)
    if rules:
        connection.execute(insert(AUDIT_RULES), rules)
    return refs


def record(
    connection: Connection,
    kind: str,
    *,
    now: datetime,
    decision_id: str | None = None,
    body: dict[str, Any],
) -> AuditRef:
    """Append one versioned event of `kind` (with its id and time) built around `body`."""
    event_id = str(uuid_utils.uuid7())
    document = {
        "version": EVENT_VERSION,
        "kind": kind,
        "event_id": event_id,
        "recorded_at": now.isoformat(),
        **({"decision_id": decision_id} if decision_id else {}),
        **body,
    }
    lock_chain(connection)
    (ref,) = append(connection, [ChainEvent(kind, event_id, decision_id, now, document)])
    return ref
