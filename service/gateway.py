"""The gateway: a rule pack, its gate, the store and the audit writer, wired once per process."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import uuid_utils
from sqlalchemy import Engine, text

from policy.engines import RuleEngine, embedded_engines, with_python_rules
from policy.engines.opa_server import OpaConnection, OpaServerEngine
from policy.gate import Gate
from policy.opa_bundle import bundle_archive
from policy.proposal import Proposal
from policy.rule_pack import RulePack, load_rule_pack
from service.analytics.metrics import GatewayMetrics
from service.audit.checkpointer import checkpoint_head
from service.audit.event import decision_event, digest
from service.audit.pack_activation import record_activation
from service.audit.signing import signing_key
from service.audit.writer import AuditWriter, DecisionRecord, Recorded
from service.auth.principals import KeyAuthenticator, Principal
from service.decisions.idempotency import earlier_answer
from service.decisions.outcomes import read_status
from service.decisions.status import DecisionStatus
from service.errors import IdempotencyConflict
from service.periodic import Periodic
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.reviews.sla_clock import sla_clock
from service.reviews.tasks import opening_task
from service.reviews.waiting import ResolutionWatch
from service.settings import Settings
from service.store.database import make_engine, migrate
from service.store.tables import DecisionRow
from service.webhooks.outbox import enqueue_review_resolved
from service.webhooks.sender import WebhookSender

log = logging.getLogger(__name__)
_decisions = DecisionRow.__table__  # type: ignore[attr-defined]


def rule_engines(settings: Settings, pack: RulePack) -> list[RuleEngine]:
    """The configured Rego engine first (it names the decision's engine), then Python rules."""
    if settings.engine == "rego-embedded":
        return embedded_engines(pack)
    token = settings.opa_token.get_secret_value() if settings.opa_token else None
    opa = OpaServerEngine(
        OpaConnection(str(settings.opa_url).rstrip("/"), token),
        pack.revision,
        timeout_seconds=settings.decision_budget_ms / 1000,
        bundle_name=settings.opa_bundle,
        push=pack if settings.opa_mode == "push" else None,
    )
    return with_python_rules(opa, pack)


def build_gate(settings: Settings, pack: RulePack) -> Gate:
    """A gate over the pack with the configured Rego engine and the pack's Python rules."""
    return Gate(
        pack,
        rule_engines(settings, pack),
        budget_seconds=settings.decision_budget_ms / 1000,
        workers=settings.eval_workers,
    )


@dataclass(frozen=True)
class PublishedBundle:
    """The pack as sidecars download it; the ETag is the revision, which names the content."""

    archive: bytes
    etag: str

    @classmethod
    def of(cls, pack: RulePack) -> PublishedBundle:
        return cls(bundle_archive(pack), f'"{pack.revision}"')


class Gateway:
    """Everything one gateway process holds; built at start, closed at stop."""

    def __init__(self, settings: Settings, *, gate: Gate | None = None) -> None:
        self.settings = settings
        self.signing_key = signing_key(settings)  # first: a missing key stops the start cleanly
        self.engine: Engine = make_engine(settings.database_url)
        migrate(self.engine)
        self.gate = gate or build_gate(settings, load_rule_pack(settings.rules))
        self.bundle = PublishedBundle.of(self.gate.pack)
        record_activation(self.engine, self.gate.pack, rego_engine=settings.engine)
        self.writer = AuditWriter(self.engine, batch_max=settings.audit_batch_max)
        self.writer.start()
        self.authenticator = KeyAuthenticator(self.engine, ttl=settings.auth_cache_seconds)
        self.metrics = GatewayMetrics(self.engine)
        self.watch = ResolutionWatch()
        self.desk = ReviewDesk(
            self.engine,
            self.gate.pack,
            lease=timedelta(seconds=settings.review_lease_seconds),
            on_resolved=enqueue_review_resolved,
            after_resolved=lambda review: self.watch.resolved(review.decision_id),
        )
        self.board = ReviewBoard(self.engine, self.gate.pack)
        self.sla_clock = sla_clock(self.desk, tick_seconds=settings.sla_tick_seconds)
        self.sla_clock.start()
        self.webhook_sender = WebhookSender(
            self.engine,
            backoff_seconds=settings.webhook_backoff_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            tick_seconds=settings.webhook_tick_seconds,
        )
        self.webhook_sender.start()
        self.checkpointer = Periodic(
            "audit-checkpoints",
            lambda: checkpoint_head(self.engine, self.signing_key),
            seconds=settings.audit_checkpoint_seconds,
        )
        self.checkpointer.start()
        log.info("gateway ready: rules %s, engine %s", self.gate.pack.revision, settings.engine)

    async def decide(self, proposal: Proposal, principal: Principal) -> Recorded:
        """Decide, record durably, then answer; an idempotent retry gets its first answer."""
        started = time.monotonic()
        request_digest = digest(proposal.document())
        if proposal.idempotency_key:
            earlier = await asyncio.to_thread(
                self._earlier, principal.id, proposal.idempotency_key, request_digest
            )
            if earlier is not None:
                return earlier
        agent = principal.as_agent()
        decision = await self.gate.decide_async(proposal, agent)
        recorded_at = datetime.now(UTC)
        event = decision_event(
            event_id=str(uuid_utils.uuid7()),
            proposal=proposal,
            agent=agent,
            decision=decision,
            recorded_at=recorded_at,
            mask_paths=self.gate.pack.data.masking,
        )
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
                pack=self.gate.pack,
                now=recorded_at,
            ),
        )
        recorded = await asyncio.wrap_future(self.writer.submit(record))
        self.metrics.decisions.labels(decision.outcome.value).inc()
        self.metrics.latency.observe(time.monotonic() - started)
        return recorded

    def _earlier(self, principal_id: str, key: str, request_digest: str) -> Recorded | None:
        with self.engine.connect() as connection:
            found = earlier_answer(connection, principal_id, key)
        if found is None:
            return None
        if found[0] != request_digest:
            raise IdempotencyConflict()
        return Recorded(body=found[1], replayed=True)

    async def decision_status(
        self, decision_id: str, principal: Principal, *, wait: float = 0
    ) -> DecisionStatus:
        """The decision and the action's status; with `wait`, hold until its review resolves."""
        deadline = time.monotonic() + wait
        while True:
            status = await asyncio.to_thread(self._status, decision_id, principal)
            remaining = deadline - time.monotonic()
            if status.review is None or status.review.state.resolved or remaining <= 0:
                return status
            recheck = min(remaining, self.settings.long_poll_recheck_seconds)
            await self.watch.wait(decision_id, recheck)

    def _status(self, decision_id: str, principal: Principal) -> DecisionStatus:
        with self.engine.connect() as connection:
            return read_status(connection, decision_id, principal)

    def ready(self) -> bool:
        """The store answers, the writer runs and the rule engines can decide."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return self.writer.running and self.gate.healthy()

    def close(self) -> None:
        """Stop the clocks, drain the writer, stop the engines, close connections."""
        self.sla_clock.stop()
        self.webhook_sender.stop()
        self.checkpointer.stop()
        self.writer.stop()
        try:  # sign the head as it is at stop, so a cut tail cannot go unnoticed until then
            checkpoint_head(self.engine, self.signing_key)
        except Exception as exc:
            log.warning("no checkpoint at stop: %s", type(exc).__name__)
        self.gate.close()
        self.engine.dispose()
