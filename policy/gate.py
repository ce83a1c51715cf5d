"""The decision path: preconditions, engines under a time budget, combination, routing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import uuid_utils

from policy.assessment import approvals_required, assess
from policy.backends.base import EvaluationBackend
from policy.context import Agent, EvaluationContext
from policy.decision import Decision, PolicyRef, Reason, ReviewRef, Sample
from policy.errors import EngineError
from policy.fail_closed import FailClosed, FailClosedCause, fail_closed_outcome
from policy.outcome import Outcome, most_severe
from policy.pack_data import Reversibility
from policy.preconditions import (
    contradictory_sources,
    low_confidence,
    missing_fields,
    out_of_scope,
    unknown_action,
)
from policy.proposal import Proposal
from policy.rule_pack import RulePack
from policy.sampling import RateSource, author_rates, is_selected

Clock = Callable[[], datetime]
# What the gate assumes about an action it cannot assess: the worst.
_UNKNOWN_TIER = 3


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Pending:
    """A proposal past its preconditions, whose engines are running."""

    decision_id: str
    started: float
    context: EvaluationContext
    concerns: tuple[FailClosed, ...]
    future: Future[list[Reason]]
    sample_rate: float | None = None  # a replay's recorded rate, instead of today's


class Gate:
    """Decides proposals against one rule pack with a set of engines.

    `decide` blocks; `decide_async` awaits. Both run the engines on the gate's worker threads
    and stop waiting when the per-decision budget is spent: the decision then fails closed
    (a runaway rule keeps its thread until it returns; the decision does not wait for it).
    """

    def __init__(
        self,
        pack: RulePack,
        engines: Sequence[EvaluationBackend],
        *,
        budget_seconds: float = 0.25,
        workers: int = 4,
        clock: Clock = _utc_now,
        rates: RateSource | None = None,
    ) -> None:
        self.pack = pack
        # Post-hoc rates: the author's, or adaptive ones kept current by the service.
        self._rates = rates or author_rates(pack.data)
        self._backends = tuple(engines)
        self._budget = budget_seconds
        self._clock = clock
        self._policy = PolicyRef(revision=pack.revision, engine=self._backends[0].name)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate-eval")

    def decide(
        self, proposal: Proposal, agent: Agent, *, sample_rate: float | None = None
    ) -> Decision:
        """Decide one proposal, blocking the calling thread. A replay of a recorded decision
        gives `sample_rate`, the rate it recorded: the pick is then the one recorded."""
        pending = self._start(proposal, agent, sample_rate)
        if isinstance(pending, Decision):
            return pending
        try:
            reasons = pending.future.result(timeout=self._time_left(pending))
        except Exception as exc:
            return self._failed(pending, exc)
        return self._finish(pending, reasons)

    async def decide_async(self, proposal: Proposal, agent: Agent) -> Decision:
        """Decide one proposal without blocking the event loop."""
        pending = self._start(proposal, agent, None)
        if isinstance(pending, Decision):
            return pending
        try:
            async with asyncio.timeout(self._time_left(pending)):
                reasons = await asyncio.wrap_future(pending.future)
        except Exception as exc:
            return self._failed(pending, exc)
        return self._finish(pending, reasons)

    def healthy(self) -> bool:
        """Every engine can decide now."""
        return all(engine.healthy() for engine in self._backends)

    def close(self) -> None:
        """Stop the worker threads and release the engines."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        for engine in self._backends:
            engine.close()

    # -- the steps -------------------------------------------------------------------------

    def _start(
        self, proposal: Proposal, agent: Agent, sample_rate: float | None
    ) -> _Pending | Decision:
        started = time.monotonic()
        decision_id = str(uuid_utils.uuid7())
        action_type = proposal.action.type
        entry = self.pack.data.catalog.get(action_type)
        blocker = out_of_scope(action_type, agent.scopes) or unknown_action(action_type, entry)
        if blocker is not None or entry is None:
            return self._unassessed(decision_id, blocker)
        assessment = assess(proposal, entry, self.pack.data.limits)
        context = EvaluationContext(proposal=proposal, assessment=assessment, agent=agent)
        missing = missing_fields(context.document["proposal"], entry)  # the rules' document
        if missing is not None:
            return self._decision(decision_id, context, [], (missing,), sample_rate)
        concerns = tuple(
            c
            for c in (
                contradictory_sources(proposal),
                low_confidence(proposal, self.pack.data.limits),
            )
            if c is not None
        )
        future = self._executor.submit(self._evaluate, context)
        return _Pending(decision_id, started, context, concerns, future, sample_rate)

    def _evaluate(self, context: EvaluationContext) -> list[Reason]:
        reasons: list[Reason] = []
        for engine in self._backends:
            reasons.extend(engine.evaluate(context))
        return reasons

    def _time_left(self, pending: _Pending) -> float:
        return max(0.0, self._budget - (time.monotonic() - pending.started))

    def _failed(self, pending: _Pending, exc: Exception) -> Decision:
        if isinstance(exc, TimeoutError):
            failure = FailClosed(
                cause=FailClosedCause.ENGINE_TIMEOUT,
                detail=f"the rules did not decide within {self._budget * 1000:g} ms",
            )
        elif isinstance(exc, EngineError):
            failure = FailClosed(cause=exc.cause, detail=str(exc))
        else:  # a bug in the engine code itself still fails closed
            failure = FailClosed(cause=FailClosedCause.ENGINE_ERROR, detail=repr(exc))
        return self._decision(
            pending.decision_id,
            pending.context,
            [],
            (failure, *pending.concerns),
            pending.sample_rate,
        )

    def _finish(self, pending: _Pending, reasons: list[Reason]) -> Decision:
        concerns = pending.concerns
        if not reasons:
            concerns = (
                FailClosed(cause=FailClosedCause.ENGINE_ERROR, detail="no rule gave a verdict"),
                *concerns,
            )
        return self._decision(
            pending.decision_id, pending.context, reasons, concerns, pending.sample_rate
        )

    def _unassessed(self, decision_id: str, blocker: FailClosed | None) -> Decision:
        assert blocker is not None
        outcome = fail_closed_outcome(blocker.cause, self.pack.data.fail_closed)
        return Decision(
            decision_id=decision_id,
            outcome=outcome,
            risk_tier=_UNKNOWN_TIER,
            reversibility=Reversibility.IRREVERSIBLE,
            reasons=[self._reason_for(blocker)],
            review=self._review(outcome, self.pack.data.fail_closed.queue, None, approvals=1),
            fail_closed=blocker,
            policy=self._policy,
            decided_at=self._clock(),
        )

    def _decision(
        self,
        decision_id: str,
        context: EvaluationContext,
        reasons: list[Reason],
        concerns: tuple[FailClosed, ...],
        sample_rate: float | None = None,
    ) -> Decision:
        """Combine every verdict: the most severe outcome wins and every verdict is kept."""
        all_reasons = [self._reason_for(concern) for concern in concerns] + reasons
        outcome = most_severe(r.outcome for r in all_reasons)
        assert outcome is not None  # _finish turns "no verdict" into a concern
        assessment = context.assessment
        entry = self.pack.data.catalog[context.proposal.action.type]
        sample = None
        if outcome is Outcome.SAMPLE:
            action = context.proposal.action
            rate = sample_rate
            if rate is None:
                rate = self._rates(action.type, action.environment, assessment.risk_tier)
            sample = Sample(rate=rate, selected=is_selected(decision_id, rate))
        return Decision(
            decision_id=decision_id,
            outcome=outcome,
            risk_tier=assessment.risk_tier,
            reversibility=assessment.reversibility,
            reasons=all_reasons,
            review=self._review(
                outcome,
                entry.owner_queue,
                context.proposal.action.type,
                approvals=approvals_required(
                    context.proposal, assessment.risk_tier, self.pack.data.limits
                ),
            ),
            sample=sample,
            fail_closed=concerns[0] if concerns else None,
            policy=self._policy,
            decided_at=self._clock(),
        )

    def with_verdict(self, decision: Decision, proposal: Proposal, reason: Reason) -> Decision:
        """The decision with one more verdict (a budget's, decided by the store): every verdict
        is kept and the most severe outcome wins; a routed one waits in the action type's
        owner queue."""
        reasons = [*decision.reasons, reason]
        outcome = most_severe((decision.outcome, reason.outcome))
        assert outcome is not None
        if outcome is decision.outcome:
            return decision.model_copy(update={"reasons": reasons})
        entry = self.pack.data.catalog.get(proposal.action.type)
        queue = entry.owner_queue if entry else self.pack.data.fail_closed.queue
        approvals = approvals_required(proposal, decision.risk_tier, self.pack.data.limits)
        review = self._review(outcome, queue, proposal.action.type, approvals=approvals)
        changes = {"outcome": outcome, "reasons": reasons, "review": review, "sample": None}
        return decision.model_copy(update=changes)

    def _reason_for(self, concern: FailClosed) -> Reason:
        return Reason(
            rule=f"fail_closed.{concern.cause.value}",
            outcome=fail_closed_outcome(concern.cause, self.pack.data.fail_closed),
            message=concern.detail,
        )

    def _review(
        self, outcome: Outcome, queue_name: str, action_type: str | None, *, approvals: int
    ) -> ReviewRef | None:
        if outcome is not Outcome.ROUTE_TO_HUMAN:
            return None
        return ReviewRef(
            id=str(uuid_utils.uuid7()),
            queue=queue_name,
            due_at=self._clock() + self.pack.data.time_box(queue_name, action_type),
            on_timeout=self.pack.data.queues[queue_name].on_timeout,
            approvals_required=approvals,
        )
