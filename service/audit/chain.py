"""Appending events to the audit chain inside the caller's write transaction.

The decision writer and every review step append through here, so the chain has one
definition of `seq`, `prev_hash` and `hash`, and an event commits or rolls back together
with the state change it records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, select, text

from policy.decision import AuditRef
from service.audit.event import EVENT_VERSION, GENESIS_HASH, canonical, chain_hash
from service.audit.index import INDEX_COLUMNS, stored_index
from service.audit.tables import AUDIT_EVENTS, AUDIT_RULES
from service.store.driver import BulkInsert, first_row

# Any constant works; it names "the audit chain head" among PostgreSQL advisory locks.
_CHAIN_LOCK = 0x5B1C_E6A7
# Built once: every append runs them, and building a statement costs more than its cache hit.
_HEAD = str(
    select(AUDIT_EVENTS.c.seq, AUDIT_EVENTS.c.hash)
    .order_by(AUDIT_EVENTS.c.seq.desc())
    .limit(1)
    .compile(compile_kwargs={"literal_binds": True})
)
_INSERT_EVENTS = BulkInsert(AUDIT_EVENTS)
_INSERT_RULES = BulkInsert(AUDIT_RULES)
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_chain(connection: Connection) -> None:
    """Hold the chain's head until the transaction ends: a transaction-scoped advisory lock on
    PostgreSQL (re-entrant within the transaction); on SQLite the write transaction already
    holds the database."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"key": _CHAIN_LOCK})


def append(connection: Connection, events: Sequence[dict[str, Any]]) -> list[AuditRef]:
    """Append event documents in order after the current head; the caller's transaction
    commits them. The columns stored beside each (its id, kind, decision, time, the filter
    columns and the rule index) are derived from the document (`index.stored_index`), as
    verification derives them again.

    The caller must hold a write transaction (`WRITE_TRANSACTION` on SQLite takes the database
    lock at BEGIN) and `lock_chain` (on PostgreSQL a transaction-scoped advisory lock
    serializes appenders from every replica, so two never read the same head). The decision
    writer takes the lock once per batch, before its idempotency check; `record` takes it.
    """
    if not events:
        return []
    head = first_row(connection, _HEAD)
    seq, prev_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    refs: list[AuditRef] = []
    rows: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for document in events:
        seq += 1
        event_bytes = canonical(document)
        this_hash = chain_hash(prev_hash, event_bytes)
        index = stored_index(document)
        rows.append(
            {
                "seq": seq,
                "prev_hash": prev_hash,
                "hash": this_hash,
                "event": event_bytes.decode(),
                **{column: index[column] for column in INDEX_COLUMNS},
            }
        )
        rules.extend({"rule": rule, "seq": seq} for rule in index["rules"])
        refs.append(AuditRef(seq=seq, hash=this_hash))
        prev_hash = this_hash
    _INSERT_EVENTS.run(connection, rows)
    _INSERT_RULES.run(connection, rules)
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
    (ref,) = append(connection, [document])
    return ref
