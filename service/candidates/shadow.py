"""Shadow mode: a candidate rule pack decides every live proposal too, with no effect on the
answer, and the pair is recorded so authors see how often it agrees before activating it.

Runs live in the store (`shadow_runs`): `rules shadow` (or the API) starts one, every
gateway process notices within a few seconds and loads the candidate beside its active pack.
Shadow decisions are made after the real answer was recorded, off the request's path, on a
bounded queue: when it is full a shadow decision is dropped (and counted in /metrics), never
the real one delayed. What is compared is the rules' outcome: budgets are the store's.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import uuid_utils
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as MetricCounter
from pydantic import BaseModel
from sqlalchemy import Engine, func, insert, select, update

from policy.context import Agent
from policy.decision import Decision
from policy.gate import Gate
from policy.outcome import Outcome
from policy.proposal import Proposal
from policy.rule_pack import RulePack
from service.candidates.answers import RulesAnswer, replay
from service.candidates.tables import SHADOW_RESULTS, SHADOW_RUNS
from service.periodic import Periodic
from service.store.database import writing
from service.store.utc import utc_now

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000
_BATCH = 200
MAX_EXAMPLES = 20


class ShadowRun(BaseModel):
    """A candidate evaluated on live traffic."""

    id: str
    path: str
    revision: str
    started_by: str
    started_at: datetime
    stopped_at: datetime | None


class ShadowReport(BaseModel):
    """How the shadow pack agreed with the active one on the decisions it saw."""

    run: ShadowRun | None
    decisions: int
    agree: int
    agreement_rate: float | None
    transitions: dict[str, int]
    by_action_type: dict[str, dict[str, int]]
    examples: list[dict[str, str]]


def start_run(database: Engine, pack: RulePack, *, started_by: str) -> ShadowRun:
    """Stop any run in progress and start shadowing `pack`."""
    now = utc_now()
    run = ShadowRun(
        id=str(uuid_utils.uuid7()),
        path=str(Path(pack.path).resolve()),
        revision=pack.revision,
        started_by=started_by,
        started_at=now,
        stopped_at=None,
    )
    with writing(database) as connection:
        connection.execute(
            update(SHADOW_RUNS).where(SHADOW_RUNS.c.stopped_at.is_(None)).values(stopped_at=now)
        )
        connection.execute(insert(SHADOW_RUNS), [run.model_dump()])
    return run


def stop_run(database: Engine) -> bool:
    """Stop the run in progress; False when none was."""
    with writing(database) as connection:
        stopped = connection.execute(
            update(SHADOW_RUNS)
            .where(SHADOW_RUNS.c.stopped_at.is_(None))
            .values(stopped_at=utc_now())
        ).rowcount
    return bool(stopped)


def latest_run(database: Engine, *, running: bool = False) -> ShadowRun | None:
    """The run in progress, or (unless `running`) the last one."""
    query = select(SHADOW_RUNS).order_by(SHADOW_RUNS.c.started_at.desc()).limit(1)
    if running:
        query = query.where(SHADOW_RUNS.c.stopped_at.is_(None))
    with database.connect() as connection:
        row = connection.execute(query).first()
    return ShadowRun.model_validate(dict(row._mapping)) if row is not None else None


def shadow_report(database: Engine, run: ShadowRun | None = None) -> ShadowReport:
    """The agreement of a run (the latest when none is named)."""
    run = run or latest_run(database)
    if run is None:
        return ShadowReport(
            run=None, decisions=0, agree=0, agreement_rate=None, transitions={},
            by_action_type={}, examples=[],
        )  # fmt: skip
    with database.connect() as connection:
        rows = connection.execute(
            select(
                SHADOW_RESULTS.c.action_type,
                SHADOW_RESULTS.c.active_outcome,
                SHADOW_RESULTS.c.shadow_outcome,
                SHADOW_RESULTS.c.agree,
                func.count(),
            )
            .where(SHADOW_RESULTS.c.run_id == run.id)
            .group_by(
                SHADOW_RESULTS.c.action_type,
                SHADOW_RESULTS.c.active_outcome,
                SHADOW_RESULTS.c.shadow_outcome,
                SHADOW_RESULTS.c.agree,
            )
        ).all()
        examples = connection.execute(
            select(
                SHADOW_RESULTS.c.decision_id,
                SHADOW_RESULTS.c.active_outcome,
                SHADOW_RESULTS.c.shadow_outcome,
            )
            .where(SHADOW_RESULTS.c.run_id == run.id, SHADOW_RESULTS.c.agree.is_(False))
            .order_by(SHADOW_RESULTS.c.recorded_at.desc())
            .limit(MAX_EXAMPLES)
        ).all()
    transitions: Counter[str] = Counter()
    by_type: dict[str, Counter[str]] = {}
    for action_type, active, shadow, agree, count in rows:
        per_type = by_type.setdefault(action_type, Counter())
        per_type["decisions"] += count
        if not agree:
            per_type["disagree"] += count
            transitions[f"{active}->{shadow}"] += count
    decisions = sum(c["decisions"] for c in by_type.values())
    agree = decisions - sum(c["disagree"] for c in by_type.values())
    return ShadowReport(
        run=run,
        decisions=decisions,
        agree=agree,
        agreement_rate=agree / decisions if decisions else None,
        transitions=dict(transitions),
        by_action_type={
            t: {"decisions": c["decisions"], "disagree": c["disagree"]}
            for t, c in sorted(by_type.items())
        },
        examples=[{"decision_id": d, "from": a, "to": s} for d, a, s in examples],
    )


@dataclass(frozen=True)
class _Shadowed:
    """A live decision waiting for the shadow pack: what was asked, and the rules' outcome."""

    decision_id: str
    proposal: Proposal
    agent: Agent
    outcome: Outcome
    sample_rate: float | None  # the live decision's post-hoc rate, which the shadow uses too


@dataclass(frozen=True)
class _Loaded:
    run: ShadowRun
    gate: Gate


class ShadowEvaluator:
    """One per gateway process: follows the run in the store and shadows what it is given."""

    def __init__(
        self,
        database: Engine,
        load: Callable[[Path], Gate],
        *,
        registry: CollectorRegistry,
        tick_seconds: float = 2.0,
    ) -> None:
        self._database = database
        self._load = load
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Shadowed | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._watch = Periodic("shadow-watch", self.follow, seconds=tick_seconds)
        self._worker = threading.Thread(target=self._work, name="shadow", daemon=True)
        self.compared = MetricCounter(
            "sluicegate_shadow_decisions",
            "Live decisions the shadow pack also decided, by whether it agreed",
            ["agree"],
            registry=registry,
        )
        self.dropped = MetricCounter(
            "sluicegate_shadow_dropped",
            "Shadow decisions dropped because the shadow queue was full",
            registry=registry,
        )

    def start(self) -> None:
        """Start following runs and shadowing."""
        self.follow()
        self._watch.start()
        self._worker.start()

    def stop(self) -> None:
        """Stop; what is queued is dropped (shadow results are best effort)."""
        self._watch.stop()
        self._queue.put(None)
        self._worker.join(timeout=10)
        with self._lock:
            if self._loaded is not None:
                self._loaded.gate.close()
                self._loaded = None

    def follow(self) -> None:
        """Load the run in progress if it is not the one loaded; unload a stopped one."""
        run = latest_run(self._database, running=True)
        with self._lock:
            current = self._loaded
        if (current.run.id if current else None) == (run.id if run else None):
            return
        loaded = None
        if run is not None:
            try:
                loaded = _Loaded(run, self._load(Path(run.path)))
            except Exception as exc:  # a candidate this process cannot load: shadow nothing
                log.warning("shadow: cannot load %s: %s", run.path, type(exc).__name__)
        with self._lock:
            previous, self._loaded = self._loaded, loaded
        if previous is not None:
            previous.gate.close()

    def submit(
        self, decision_id: str, proposal: Proposal, agent: Agent, decision: Decision
    ) -> None:
        """Shadow one recorded decision, later; never blocks the caller."""
        if self._loaded is None:
            return
        try:
            outcome = RulesAnswer.of(decision).outcome
            rate = decision.sample.rate if decision.sample else None
            self._queue.put_nowait(_Shadowed(decision_id, proposal, agent, outcome, rate))
        except queue.Full:
            self.dropped.inc()

    def _work(self) -> None:
        while True:
            asked = self._queue.get()
            if asked is None:
                return
            batch = [asked]
            while len(batch) < _BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._record(batch)
                    return
                batch.append(more)
            self._record(batch)

    def _record(self, batch: list[_Shadowed]) -> None:
        with self._lock:
            loaded = self._loaded
        if loaded is None:
            return
        rows = []
        for asked in batch:
            try:
                answer = replay(loaded.gate, asked.proposal, asked.agent, asked.sample_rate)
                shadow = answer.outcome
            except Exception as exc:  # the candidate's failure is its own: log, go on
                log.warning("shadow: the candidate failed: %s", type(exc).__name__)
                continue
            agree = shadow is asked.outcome
            self.compared.labels(str(agree).lower()).inc()
            rows.append(
                {
                    "decision_id": asked.decision_id,
                    "run_id": loaded.run.id,
                    "action_type": asked.proposal.action.type,
                    "active_outcome": asked.outcome.value,
                    "shadow_outcome": shadow.value,
                    "agree": agree,
                    "recorded_at": utc_now(),
                }
            )
        if not rows:
            return
        try:
            with writing(self._database) as connection:
                connection.execute(insert(SHADOW_RESULTS), rows)
        except Exception as exc:  # the store's trouble must not end the shadow thread
            log.warning("shadow: results not recorded: %s", type(exc).__name__)
