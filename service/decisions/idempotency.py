"""Idempotency: a request retried with the same key gets its first answer, decided in the one
write transaction that records decisions (under the chain's lock), so two retries can never
both be new.

The same key with another body is a conflict. A retry that arrives in the same batch as its
first request replays that request's answer once it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from service.decisions.lookup import stored_permit
from service.decisions.record import DecisionRecord, Recorded
from service.decisions.tables import DECISIONS
from service.errors import IdempotencyConflict


@dataclass(frozen=True)
class Fresh:
    """A record to write; `replay` marks a retry of a fresh record earlier in the batch."""

    index: int
    replay: bool = False


Step = Recorded | IdempotencyConflict | Fresh


def plan(
    connection: Connection, records: Sequence[DecisionRecord]
) -> tuple[list[Step], list[DecisionRecord]]:
    """Per record: the answer it replays, a conflict, or its place among the records to write;
    and the records to write, in order."""
    steps: list[Step] = []
    fresh: list[DecisionRecord] = []
    first_in_batch: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record.principal_id, record.idempotency_key or "")
        if record.idempotency_key and key in first_in_batch:
            first = first_in_batch[key]
            same = fresh[first].request_digest == record.request_digest
            steps.append(Fresh(first, replay=True) if same else IdempotencyConflict())
            continue
        earlier = _stored_answer(connection, record)
        if earlier is not None:
            steps.append(earlier)
            continue
        if record.idempotency_key:
            first_in_batch[key] = len(fresh)
        steps.append(Fresh(len(fresh)))
        fresh.append(record)
    return steps, fresh


def _stored_answer(
    connection: Connection, record: DecisionRecord
) -> Recorded | IdempotencyConflict | None:
    if not record.idempotency_key:
        return None
    row = connection.execute(
        select(
            DECISIONS.c.request_digest,
            DECISIONS.c.body,
            DECISIONS.c.decision_id,
            DECISIONS.c.permit_claims,
            DECISIONS.c.permit_kid,
        ).where(
            DECISIONS.c.principal_id == record.principal_id,
            DECISIONS.c.idempotency_key == record.idempotency_key,
        )
    ).first()
    if row is None:
        return None
    if str(row.request_digest) != record.request_digest:
        return IdempotencyConflict()
    return Recorded(
        decision_id=str(row.decision_id),
        body=str(row.body),
        replayed=True,
        stored_permit=stored_permit(row),
    )
