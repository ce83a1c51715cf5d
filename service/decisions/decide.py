"""Deciding a proposal: the gate's answer, its audit event and review task, recorded durably
before anyone hears it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import uuid_utils

from policy.gate import Gate
from policy.outcome import Outcome
from policy.proposal import Proposal
from service.analytics.metrics import GatewayMetrics
from service.audit.event import decision_event, digest
from service.audit.writer import AuditWriter
from service.auth.principals import Principal
from service.decisions.record import DecisionRecord, Recorded
from service.permits.signer import PermitSigner
from service.reviews.tasks import opening_task

# Outcomes that let the agent act now.
_MAY_ACT = frozenset({Outcome.ALLOW, Outcome.SAMPLE})


class Decider:
    """Asks the gate, then hands the decision to the audit writer and answers after commit.

    A retried request (same idempotency key) is recognised by the writer, inside the
    transaction that would record it, and answered with the first decision."""

    def __init__(
        self, gate: Gate, writer: AuditWriter, metrics: GatewayMetrics, permits: PermitSigner
    ) -> None:
        self._gate = gate
        self._writer = writer
        self._metrics = metrics
        self._permits = permits

    async def decide(self, proposal: Proposal, principal: Principal) -> Recorded:
        """Decide, record durably, then answer; an idempotent retry gets its first answer."""
        started = time.monotonic()
        agent = principal.as_agent()
        decision = await self._gate.decide_async(proposal, agent)
        pack = self._gate.pack
        recorded_at = datetime.now(UTC)
        document = proposal.document()
        request_digest = digest(document)  # once: the event and the idempotency check share it
        event = decision_event(
            event_id=str(uuid_utils.uuid7()),
            proposal=proposal,
            agent=agent,
            decision=decision,
            recorded_at=recorded_at,
            mask_paths=pack.data.masking,
            document=document,
            proposal_digest=request_digest,
        )
        if decision.outcome in _MAY_ACT:  # the answer carries a permit; the log does not
            permit = self._permits.issue(
                agent_id=principal.id,
                proposal=proposal,
                decision_id=decision.decision_id,
                revision=decision.policy.revision,
            )
            decision = decision.model_copy(update={"permit": permit})
        record = DecisionRecord(
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
        )
        recorded = await asyncio.wrap_future(self._writer.submit(record))
        if not recorded.replayed:
            self._metrics.decisions.labels(decision.outcome.value).inc()
            self._metrics.latency.observe(time.monotonic() - started)
        return recorded
