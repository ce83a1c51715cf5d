"""The decision writer: one thread group-commits decision records, acknowledging each only
after its commit.

One transaction per batch, holding the audit chain's lock: the idempotency check, the
budgets (`budgets.settle`, which may record a decision's over-budget variant instead), the
chain events, the decision rows and the review tasks they open. The audit chain knows
nothing of decisions: it appends what it is given (`audit/chain.py`)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from service.audit.chain import append, lock_chain
from service.decisions import budgets, idempotency
from service.decisions.record import DecisionRecord, Recorded
from service.decisions.tables import DECISIONS
from service.errors import AuditUnavailable
from service.reviews.tasks import open_tasks
from service.store.database import WRITE_TRANSACTION
from service.store.driver import BulkInsert
from service.store.utc import utc_now

log = logging.getLogger(__name__)

_STOP = object()
_INSERT_DECISIONS = BulkInsert(DECISIONS)
# A connection idle longer than this goes back to the pool, and the next batch checks one out
# (where PostgreSQL's pre-ping finds a restarted server); under load the writer keeps its own.
KEEP_IDLE_SECONDS = 1.0


@dataclass
class _Job:
    record: DecisionRecord
    future: Future[Recorded]


class _WriterConnection:
    """The writer thread's own connection, kept between batches while they keep coming:
    checking one out of the pool costs more than a one-record batch's statements. Dropped
    after any failure and after a pause, so a batch never runs on a connection the store lost."""

    def __init__(self, database: Engine) -> None:
        self._database = database
        self._connection: Connection | None = None
        self._last_used = 0.0

    def take(self) -> Connection:
        """A connection for one write transaction (BEGIN IMMEDIATE on SQLite)."""
        if self._connection is not None and time.monotonic() - self._last_used > KEEP_IDLE_SECONDS:
            self.drop()
        if self._connection is None:
            self._connection = self._database.connect().execution_options(**WRITE_TRANSACTION)
        return self._connection

    def used(self) -> None:
        """The batch committed: keep the connection for the next."""
        self._last_used = time.monotonic()

    def drop(self) -> None:
        """Give the connection back (after a failure, a pause, or at stop)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except Exception as exc:  # a connection the store lost may fail to close
                log.warning("writer connection not closed cleanly: %s", type(exc).__name__)


class DecisionWriter:
    """One thread writes every decision: it takes what is queued, commits it in one transaction,
    then resolves each caller's future.

    When a batch fails, its records are written again one by one, so a record the store
    refuses fails alone and the others still commit; when the store itself is down, the first
    record that fails for that reason fails the rest without more attempts."""

    def __init__(self, database: Engine, *, batch_max: int = 256) -> None:
        self._database = database
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
        self._connection = _WriterConnection(database)

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
            job.future.set_exception(AuditUnavailable("the decision writer is not running"))
        else:
            self._queue.put(job)
        return job.future

    def _run(self) -> None:
        try:
            self._take_batches()
        finally:
            self._connection.drop()

    def _take_batches(self) -> None:
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
            if len(jobs) == 1 or _store_down(exc):
                self._fail(jobs)
            else:
                self._commit_one_by_one(jobs)
            return
        self._resolve(jobs, outcomes)

    def _commit_one_by_one(self, jobs: list[_Job]) -> None:
        for index, job in enumerate(jobs):
            try:
                outcomes = self._write([job])
            except Exception as exc:
                log.error("audit record refused alone: %s", type(exc).__name__)
                if _store_down(exc):
                    self._fail(jobs[index:])
                    return
                self._fail([job])
            else:
                self._resolve([job], outcomes)

    @staticmethod
    def _fail(jobs: list[_Job]) -> None:
        for job in jobs:
            job.future.set_exception(AuditUnavailable("the audit record could not be committed"))

    @staticmethod
    def _resolve(jobs: list[_Job], outcomes: list[Recorded | Exception]) -> None:
        for job, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    def _write(self, jobs: list[_Job]) -> list[Recorded | Exception]:
        connection = self._connection.take()
        try:
            outcomes = self._write_on(connection, jobs)
        except BaseException:
            self._connection.drop()
            raise
        self._connection.used()
        return outcomes

    def _write_on(self, connection: Connection, jobs: list[_Job]) -> list[Recorded | Exception]:
        with connection.begin():
            lock_chain(connection)  # before the idempotency check: no replica decides it too
            steps, fresh = idempotency.plan(connection, [job.record for job in jobs])
            fresh = budgets.settle(connection, fresh, utc_now())  # under the same lock
            refs = append(connection, [record.event for record in fresh])
            bodies = [
                record.decision.model_copy(update={"audit": ref}).model_dump_json()
                for record, ref in zip(fresh, refs, strict=True)
            ]
            if fresh:
                rows = [_decision_row(r, b) for r, b in zip(fresh, bodies, strict=True)]
                _INSERT_DECISIONS.run(connection, rows)
                open_tasks(connection, [r.review_task for r in fresh if r.review_task])
        return [
            _answered(fresh[step.index], bodies[step.index], step.replay)
            if isinstance(step, idempotency.Fresh)
            else step
            for step in steps
        ]


def _store_down(exc: Exception) -> bool:
    """A failure of the store itself (not of one record): lost connection, refused login."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _answered(record: DecisionRecord, body: str, replay: bool) -> Recorded:
    permit = record.permit
    return Recorded(
        decision_id=record.decision.decision_id,
        body=body,
        replayed=replay,
        permit=permit.token if permit else None,
    )


def _decision_row(record: DecisionRecord, body: str) -> dict[str, Any]:
    permit = record.permit.stored if record.permit else None
    return {
        "permit_claims": permit.claims if permit else None,
        "permit_kid": permit.kid if permit else None,
        "decision_id": record.decision.decision_id,
        "principal_id": record.principal_id,
        "idempotency_key": record.idempotency_key,
        "request_digest": record.request_digest,
        "action_type": record.action_type,
        "outcome": record.decision.outcome.value,
        "risk_tier": record.decision.risk_tier,
        "body": body,
        "created_at": record.recorded_at,
    }
