"""Deciding a proposal: the gate's answer, its audit event and review task, recorded durably
before anyone hears it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import uuid_utils
from opentelemetry import trace
from sqlalchemy import Engine

from policy.budgets import SPENDING, Charge, over_budget, spending
from policy.context import Agent
from policy.decision import Decision
from policy.gate import Gate
from policy.proposal import Proposal
from service.audit.event import decision_event, digest
from service.auth.principals import Principal
from service.decisions.record import BudgetClaim, DecisionRecord, Recorded
from service.decisions.revisions import check_revision
from service.decisions.writer import DecisionWriter
from service.metrics import GatewayMetrics
from service.permits.signer import PermitSigner
from service.reviews.tasks import opening_task

# Told of each new decision once its record is committed, on the request's path: it must
# return at once (the shadow evaluator queues it). Arguments: id, proposal, agent, decision.
DecisionObserver = Callable[[str, Proposal, Agent, Decision], None]


@dataclass(frozen=True)
class _Request:
    """One request, as every record of its decision describes it."""

    proposal: Proposal
    principal: Principal
    recorded_at: datetime
    document: dict[str, Any]
    request_digest: str


class Decider:
    """Asks the gate, then hands the decision to the decision writer and answers after commit.

    A retried request (same idempotency key) is recognised by the writer, inside the
    transaction that would record it, and answered with the first decision. So are budgets:
    a decision that lets the agent act carries what it would spend, and the writer records
    its over-budget variant (`over_budget`) instead when it would pass a limit."""

    def __init__(
        self,
        gate: Gate,
        writer: DecisionWriter,
        metrics: GatewayMetrics,
        permits: PermitSigner,
        *,
        database: Engine,
        observer: DecisionObserver | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        # Spans are started, not made current: a step has no child spans, and making one
        # current costs a context switch per step even when nothing is traced.
        self.tracer = tracer or trace.NoOpTracer()
        self._database = database
        self._observer = observer
        self._gate = gate
        self._writer = writer
        self._metrics = metrics
        self._permits = permits

    async def decide(self, proposal: Proposal, principal: Principal) -> Recorded:
        """Decide, record durably, then answer; an idempotent retry gets its first answer."""
        started = time.monotonic()
        if proposal.revises is not None:
            await asyncio.to_thread(check_revision, self._database, proposal, principal)
        with self.tracer.start_span("decision.evaluate") as span:
            span.set_attribute("sluicegate.action_type", proposal.action.type)
            decision = await self._gate.decide_async(proposal, principal.as_agent())
            span.set_attribute("sluicegate.outcome", decision.outcome.value)
            span.set_attribute("sluicegate.policy_revision", decision.policy.revision)
        recorded_at = datetime.now(UTC)
        document = proposal.document()
        request_digest = digest(document)  # once: the event and the idempotency check share it
        request = _Request(proposal, principal, recorded_at, document, request_digest)
        record = self._record(request, decision)
        charges = spending(self._gate.pack.data, proposal, decision.outcome)
        if charges:
            over = partial(self.over_budget, request, decision)
            record = replace(record, budget=BudgetClaim(charges, over))
        with self.tracer.start_span("decision.record") as span:
            recorded = await asyncio.wrap_future(self._writer.submit(record))
            span.set_attribute("sluicegate.replayed", recorded.replayed)
        if recorded.stored_permit is not None:  # a replay: the same token, signed again
            permit = await asyncio.to_thread(self._permits.sign_again, recorded.stored_permit)
            recorded = replace(recorded, permit=permit)
        if not recorded.replayed:
            self._metrics.decisions.labels(decision.outcome.value).inc()
            self._metrics.latency.observe(time.monotonic() - started)
            if self._observer is not None:  # after the answer is recorded; never delays it
                self._observer(recorded.decision_id, proposal, principal.as_agent(), decision)
        return recorded

    def over_budget(
        self, request: _Request, decision: Decision, charge: Charge, spent: float
    ) -> DecisionRecord:
        """The one place an over-budget decision is chosen: the rules' decision with the
        budget's verdict added (its outcome, route_to_human or deny, is the budget's
        `when_exceeded`), recorded instead of the decision that would pass the limit.

        Runs on the decision writer's thread, inside the transaction that records the batch
        and under the chain's lock, called by `budgets.settle`: what was spent cannot change
        while it runs, so two requests can never both take the last of a budget."""
        reason = over_budget(self._gate.pack.data, charge, spent)
        instead = self._gate.with_verdict(decision, request.proposal, reason)
        return self._record(request, instead)

    def _record(self, request: _Request, decision: Decision) -> DecisionRecord:
        """The decision with its audit event and review row, ready for the writer; one that
        lets the agent act carries a permit (for the agent's answer; the store keeps its
        claims, the log nothing of it)."""
        pack = self._gate.pack
        proposal, principal, recorded_at = request.proposal, request.principal, request.recorded_at
        document, request_digest = request.document, request.request_digest
        event = decision_event(
            event_id=str(uuid_utils.uuid7()),
            proposal=proposal,
            agent=principal.as_agent(),
            decision=decision,
            recorded_at=recorded_at,
            mask_paths=pack.data.masking,
            document=document,
            proposal_digest=request_digest,
        )
        permit = None
        if decision.outcome in SPENDING:
            permit = self._permits.issue(
                agent_id=principal.id,
                proposal=proposal,
                decision_id=decision.decision_id,
                revision=decision.policy.revision,
            )
        return DecisionRecord(
            principal_id=principal.id,
            action_type=proposal.action.type,
            idempotency_key=proposal.idempotency_key,
            request_digest=request_digest,
            decision=decision,
            event=event,
            recorded_at=recorded_at,
            review_task=opening_task(
                decision,
                agent_id=principal.id,
                proposal_digest=request_digest,
                action_type=proposal.action.type,
                pack=pack,
                now=recorded_at,
            ),
            permit=permit,
        )
