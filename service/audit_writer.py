"""The single audit writer: group-commits decision records, acknowledging only after commit."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from policy.decision import AuditRef, Decision
from service.audit_event import GENESIS_HASH, canonical, chain_hash
from service.errors import AuditUnavailable, IdempotencyConflict
from service.store.database import WRITE_TRANSACTION
from service.store.idempotency import earlier_answer
from service.store.tables import AuditEventRow, DecisionRow

log = logging.getLogger(__name__)

_STOP = object()
_events = AuditEventRow.__table__  # type: ignore[attr-defined]
_decisions = DecisionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DecisionRecord:
    """A decision waiting to be recorded, with the event that records it."""

    principal_id: str
    idempotency_key: str | None
    request_digest: str
    decision: Decision
    event: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True)
class Recorded:
    """The decision as committed (with its audit reference), or the earlier one it replays."""

    body: str
    replayed: bool


@dataclass
class _Job:
    record: DecisionRecord
    future: Future[Recorded]


class AuditWriter:
    """One thread owns every write: it takes what is queued, commits it in one transaction,
    then resolves each caller's future. A failed commit fails every record of the batch and
    writes none of them."""

    def __init__(self, engine: Engine, *, batch_max: int = 256) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive to take records."""
        return self._thread.is_alive()

    def submit(self, record: DecisionRecord) -> Future[Recorded]:
        """Queue a record; the future resolves once it is durably committed (or fails)."""
        job = _Job(record, Future())
        if not self._thread.is_alive():
            job.future.set_exception(AuditUnavailable("the audit writer is not running"))
        else:
            self._queue.put(job)
        return job.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self._batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in batch
            jobs = [job for job in batch if isinstance(job, _Job)]
            if jobs:
                self._commit(jobs)
            if stopping:
                return

    def _commit(self, jobs: list[_Job]) -> None:
        try:
            outcomes = self._write(jobs)
        except Exception as exc:
            log.error("audit commit failed for %d records: %s", len(jobs), type(exc).__name__)
            for job in jobs:
                job.future.set_exception(
                    AuditUnavailable("the audit record could not be committed")
                )
            return
        for job, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    def _write(self, jobs: list[_Job]) -> list[Recorded | Exception]:
        results: list[Recorded | Exception] = []
        decision_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        writing = self._engine.connect().execution_options(**WRITE_TRANSACTION)
        with writing as connection, connection.begin():
            head = connection.execute(
                select(_events.c.seq, _events.c.hash).order_by(_events.c.seq.desc()).limit(1)
            ).first()
            seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
            claimed: dict[tuple[str, str], tuple[str, str]] = {}
            for job in jobs:
                record = job.record
                earlier = self._earlier(connection, claimed, record)
                if earlier is not None:
                    results.append(earlier)
                    continue
                seq += 1
                event_bytes = canonical(record.event)
                this_hash = chain_hash(prev_hash, event_bytes)
                decision = record.decision.model_copy(
                    update={"audit": AuditRef(seq=seq, hash=this_hash)}
                )
                body = decision.model_dump_json()
                event_rows.append(
                    {
                        "seq": seq,
                        "event_id": record.event["event_id"],
                        "kind": "decision",
                        "decision_id": decision.decision_id,
                        "recorded_at": record.recorded_at,
                        "prev_hash": prev_hash,
                        "hash": this_hash,
                        "event": event_bytes.decode(),
                    }
                )
                decision_rows.append(
                    {
                        "decision_id": decision.decision_id,
                        "principal_id": record.principal_id,
                        "idempotency_key": record.idempotency_key,
                        "request_digest": record.request_digest,
                        "action_type": record.event["proposal"]["action"]["type"],
                        "outcome": decision.outcome.value,
                        "risk_tier": decision.risk_tier,
                        "body": body,
                        "created_at": record.recorded_at,
                    }
                )
                if record.idempotency_key:
                    claimed[(record.principal_id, record.idempotency_key)] = (
                        record.request_digest,
                        body,
                    )
                prev_hash = this_hash
                results.append(Recorded(body=body, replayed=False))
            if event_rows:
                connection.execute(insert(_decisions), decision_rows)
                connection.execute(insert(_events), event_rows)
        return results

    @staticmethod
    def _earlier(
        connection: Any, claimed: dict[tuple[str, str], tuple[str, str]], record: DecisionRecord
    ) -> Recorded | Exception | None:
        """A request retried with the same idempotency key gets the first answer."""
        if not record.idempotency_key:
            return None
        key = (record.principal_id, record.idempotency_key)
        found = claimed.get(key) or earlier_answer(connection, *key)
        if found is None:
            return None
        if found[0] != record.request_digest:
            return IdempotencyConflict()
        return Recorded(body=found[1], replayed=True)
