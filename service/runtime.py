"""The runtime: the one object a gateway process holds, built at start and closed at stop.

It owns the settings, the store, the rule pack with its gate and evaluation backends, the
audit writer and the background workers. Routes receive the parts they need through the
dependencies in `service/api/dependencies.py`, and call domain functions with them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Connection

from policy.backends import BackendOptions, backends_for
from policy.gate import Gate
from policy.opa_bundle import bundle_archive
from policy.rule_pack import RulePack, load_rule_pack
from service.analytics.metrics import GatewayMetrics
from service.audit.checkpointer import checkpoint_head
from service.audit.pack_activation import record_activation
from service.audit.signing import signing_key
from service.audit.writer import AuditWriter
from service.auth.keys import KeyAuthenticator
from service.decisions.decide import Decider
from service.decisions.lookup import DecisionWatch
from service.decisions.shadow import ShadowEvaluator
from service.periodic import Periodic, Worker
from service.permits.signer import PermitSigner
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.reviews.models import Review
from service.reviews.sla_clock import sla_clock
from service.reviews.waiting import RESOLVED_CHANNEL, ResolutionWatch, announce_resolved
from service.settings import Settings
from service.slack.interactions import SlackInteractions
from service.slack.notifier import SlackNotifier, slack_web_client
from service.store.database import database_engine, migrate, writable
from service.store.notifications import Listener
from service.tracing import tracer_of
from service.webhooks.destinations import Destinations
from service.webhooks.outbox import enqueue_review_resolved
from service.webhooks.sender import WebhookSender

log = logging.getLogger(__name__)
# The time box of a replayed evaluation, in ms (the longest the settings allow).
REPLAY_BUDGET_MS = 10_000
# A candidate pack's folder name under SLUICEGATE_CANDIDATES_DIR.
CANDIDATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def backend_options(settings: Settings) -> BackendOptions:
    """What the evaluation backends are configured with, from the gateway's settings."""
    return BackendOptions(
        timeout_seconds=settings.decision_budget_ms / 1000,
        opa_url=str(settings.opa_url),
        opa_token=settings.opa_token.get_secret_value() if settings.opa_token else None,
        opa_bundle=settings.opa_bundle,
        opa_push=settings.opa_mode == "push",
    )


def build_gate(settings: Settings, pack: RulePack) -> Gate:
    """A gate over the pack with the configured Rego backend and the pack's Python rules."""
    return Gate(
        pack,
        backends_for(pack, settings.rego_backend, backend_options(settings)),
        budget_seconds=settings.decision_budget_ms / 1000,
        workers=settings.eval_workers,
    )


def replay_gate(settings: Settings, pack: RulePack) -> Gate:
    """A gate over the pack on the embedded engine, whatever the gateway uses: replays
    (rules impact, shadow) need no sidecar serving the candidate. Nobody waits on a replay,
    so it gets the longest time box: a busy machine must not turn an evaluation into a
    fail-closed answer and report it as a change."""
    replaying = {"rego_backend": "rego-embedded", "decision_budget_ms": REPLAY_BUDGET_MS}
    return build_gate(settings.model_copy(update=replaying), pack)


def candidate_pack(settings: Settings, name: str) -> RulePack:
    """A candidate pack by name, from the operators' candidates folder; LookupError when
    there is none of that name (or no folder), RulePackError when it does not load."""
    if settings.candidates_dir is None or not CANDIDATE_NAME.fullmatch(name):
        raise LookupError(f"no candidate pack {name!r}")
    folder = settings.candidates_dir / name
    if not folder.is_dir():
        raise LookupError(f"no candidate pack {name!r}")
    return load_rule_pack(folder)


@dataclass(frozen=True)
class PublishedBundle:
    """The pack as sidecars download it; the ETag is the revision, which names the content."""

    archive: bytes
    etag: str

    @classmethod
    def of(cls, pack: RulePack) -> PublishedBundle:
        return cls(bundle_archive(pack), f'"{pack.revision}"')


def _on_resolved(connection: Connection, review: Review) -> None:
    """In the transaction that resolves a review: queue its webhooks, announce it."""
    enqueue_review_resolved(connection, review)
    announce_resolved(connection, review)


class Runtime:
    """Everything one gateway process holds; built at start, closed at stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        gate: Gate | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.settings = settings
        # Spans of a decision's steps (service/tracing.py); records nothing when off.
        self.tracer = tracer_of(tracer_provider)
        self.signing_key = signing_key(settings)  # first: a missing key stops the start cleanly
        self.database = database_engine(settings.database_url)
        migrate(self.database)
        self.gate = gate or build_gate(settings, load_rule_pack(settings.rules))
        self.pack = self.gate.pack
        self.bundle = PublishedBundle.of(self.pack)
        record_activation(self.database, self.pack, rego_backend=settings.rego_backend)
        self.writer = AuditWriter(self.database, batch_max=settings.audit_batch_max)
        self.writer.start()
        self.authenticator = KeyAuthenticator(self.database, ttl=settings.auth_cache_seconds)
        self.metrics = GatewayMetrics(self.database)
        self.permits = PermitSigner(
            self.database, issuer=settings.permit_issuer, ttl_seconds=settings.permit_ttl_seconds
        )
        self.shadow = ShadowEvaluator(
            self.database,
            lambda path: replay_gate(settings, load_rule_pack(path)),
            registry=self.metrics.registry,
            tick_seconds=settings.shadow_tick_seconds,
        )
        self.decider = Decider(
            self.gate,
            self.writer,
            self.metrics,
            self.permits,
            database=self.database,
            shadow=self.shadow,
            tracer=self.tracer,
        )
        self.watch = ResolutionWatch()
        self.decisions = DecisionWatch(
            self.database,
            self.pack,
            self.watch,
            recheck_seconds=settings.long_poll_recheck_seconds,
            max_wait_seconds=settings.long_poll_max_seconds,
        )
        self._slack_notifier: SlackNotifier | None = None
        self.desk = ReviewDesk(
            self.database,
            self.pack,
            lease=timedelta(seconds=settings.review_lease_seconds),
            on_resolved=_on_resolved,
            after_resolved=self._after_resolved,
        )
        self.board = ReviewBoard(self.database, self.pack)
        self.destinations = Destinations([str(n) for n in settings.webhook_allowed_networks])
        self.webhooks = WebhookSender(
            self.database,
            backoff_seconds=settings.webhook_backoff_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            tick_seconds=settings.webhook_tick_seconds,
            destinations=self.destinations,
        )
        self._workers: tuple[Worker, ...] = (
            sla_clock(self.desk, tick_seconds=settings.sla_tick_seconds),
            self.webhooks,
            self.shadow,
            Periodic(
                "audit-checkpoints",
                lambda: checkpoint_head(self.database, self.signing_key, paced=True),
                seconds=settings.audit_checkpoint_seconds,
            ),
        )
        self.slack = self._slack(settings)
        if self.database.dialect.name == "postgresql":  # other replicas' resolutions, at once
            self._workers += (Listener(self.database, RESOLVED_CHANNEL, self._resolved),)
        for worker in self._workers:
            worker.start()
        log.info("gateway ready: rules %s, backend %s", self.pack.revision, settings.rego_backend)

    def _after_resolved(self, review: Review) -> None:
        """After a review resolved here."""
        self._resolved(review.decision_id)

    def _resolved(self, decision_id: str) -> None:
        """A review resolved, here or (heard by NOTIFY) on another gateway: wake its long
        polls, send its webhooks and update its Slack message now, not at the next tick."""
        self.watch.resolved(decision_id)
        self.webhooks.wake()
        if self._slack_notifier is not None:
            self._slack_notifier.wake()

    def _slack(self, settings: Settings) -> SlackInteractions | None:
        """Slack approvals, when the app's signing secret and bot token are both set."""
        if settings.slack_signing_secret is None or settings.slack_bot_token is None:
            return None
        client = slack_web_client(
            settings.slack_bot_token.get_secret_value(), str(settings.slack_api_url)
        )
        notifier = SlackNotifier(
            self.database,
            self.pack,
            self.board,
            client,
            tick_seconds=settings.slack_tick_seconds,
        )
        self._workers += (notifier,)
        self._slack_notifier = notifier
        return SlackInteractions(
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            client=client,
            database=self.database,
            desk=self.desk,
            board=self.board,
            changed=notifier.wake,
        )

    def ready(self) -> bool:
        """The store can be written, the writer runs and the evaluation backends can decide."""
        return writable(self.database) and self.writer.running and self.gate.healthy()

    def decides_with(self) -> dict[str, str]:
        """The rule pack revision and the Rego backend this process decides with."""
        return {"revision": self.pack.revision, "engine": self.settings.rego_backend}

    def stop_workers(self) -> None:
        """Stop the background workers (the SLA clock, webhooks, checkpoints)."""
        for worker in self._workers:
            worker.stop()

    def close(self) -> None:
        """Stop the workers, drain the writer, stop the backends, close connections."""
        self.stop_workers()
        self.writer.stop()
        try:  # sign the head as it is at stop, so a cut tail cannot go unnoticed until then
            checkpoint_head(self.database, self.signing_key)
        except Exception as exc:
            log.warning("no checkpoint at stop: %s", type(exc).__name__)
        self.gate.close()
        self.database.dispose()
