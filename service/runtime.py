"""The runtime: the one object a gateway process holds, built at start and closed at stop.

It is built by small named steps, in this order, each of which registers how to undo itself:
closing (or a step failing half way) undoes them in reverse, so workers stop before the
decision writer drains, the writer drains before the last checkpoint is signed, and the
store closes last.

1. `_open_store`: the audit signing key (first: a missing key stops the start cleanly), the
   store, migrated; at close, a checkpoint of the head, then the connections close.
2. `_load_rules`: the pack, its adaptive post-hoc rates, its gate and evaluation backends,
   the bundle sidecars fetch, and the pack's activation on the chain; at close, the
   backends stop.
3. `_start_decisions`: the decision writer, permits, metrics, the decider and the long-poll
   watch; at close, the writer finishes what is queued.
4. `_open_reviews`: the review desk (every change to a review) and the board (reading them).
5. `_start_integrations`: webhooks and, when configured, Slack approvals.
6. `_start_workers`: the SLA clock, shadow runs, adaptive sampling, canary seeding,
   checkpoints and (on PostgreSQL) the listener for other replicas' resolutions.

Routes receive the parts they need through `service/api/dependencies.py`, and call domain
functions with them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Connection

from policy.gate import Gate
from policy.opa_bundle import bundle_archive
from policy.rule_pack import RulePack, load_rule_pack
from service.audit.checkpointer import checkpoint_head
from service.audit.pack_activation import record_activation
from service.audit.signing import signing_key
from service.auth.access_tokens import AccessTokens
from service.auth.keys import KeyAuthenticator
from service.auth.oidc_sign_in import OidcSignIn
from service.auth.token_checks import TokenVerifier
from service.canaries.metrics import register_canary_metrics
from service.canaries.seeder import CanarySeeder
from service.candidates.shadow import ShadowEvaluator
from service.decisions.decide import Decider
from service.decisions.lookup import DecisionWatch, read_status
from service.decisions.writer import DecisionWriter
from service.engines import build_gate, replay_gate
from service.held_calls.calls import HeldCalls
from service.metrics import GatewayMetrics
from service.periodic import Periodic, Worker
from service.permits.signer import PermitSigner
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.reviews.metrics import register_review_metrics
from service.reviews.models import Review
from service.reviews.sla_clock import sla_clock
from service.reviews.waiting import RESOLVED_CHANNEL, ResolutionWatch, announce_resolved
from service.sampling.adaptive import AdaptiveRates
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
        # What wakes when a review resolves, here or on another replica (long polls first).
        self._wake_on_resolution: list[Callable[[str], None]] = []
        self._workers: list[Worker] = []
        self._undo = ExitStack()  # how to undo each step so far, run in reverse at close
        try:
            self._open_store()
            self._load_rules(gate)
            self._start_decisions()
            self._open_reviews()
            self._start_integrations()
            self._start_workers()
        except BaseException:
            self._undo.close()
            raise
        log.info("gateway ready: rules %s, backend %s", self.pack.revision, settings.rego_backend)

    # -- the steps, in order ------------------------------------------------------------------

    def _open_store(self) -> None:
        self.signing_key = signing_key(self.settings)
        self.database = database_engine(self.settings.database_url)
        self._undo.callback(self.database.dispose)
        migrate(self.database)
        self.authenticator = KeyAuthenticator(self.database, ttl=self.settings.auth_cache_seconds)
        self.access_tokens: AccessTokens | None = None
        if self.settings.trusted_issuers:
            verifier = TokenVerifier(
                issuers=self.settings.trusted_issuers,
                audience=str(self.settings.public_url),
                scope=self.settings.oauth_scope,
                leeway=self.settings.oauth_clock_skew_seconds,
            )
            self.access_tokens = AccessTokens(self.database, verifier)
            self._undo.callback(self.access_tokens.close)
        self.oidc: OidcSignIn | None = None
        if self.settings.oidc_issuer is not None:
            secret = self.settings.oidc_client_secret
            assert self.settings.oidc_client_id is not None
            assert secret is not None
            self.oidc = OidcSignIn(
                self.database,
                issuer=self.settings.oidc_issuer,
                client_id=self.settings.oidc_client_id,
                client_secret=secret.get_secret_value(),
                public_url=str(self.settings.public_url),
                link_by_email=self.settings.oidc_link_by_email,
            )
            self._undo.callback(self.oidc.close)
        # Runs after everything started later has stopped, the writer drained included.
        self._undo.callback(self._checkpoint_at_stop)

    def _load_rules(self, gate: Gate | None) -> None:
        pack = gate.pack if gate is not None else load_rule_pack(self.settings.rules)
        self.rates = AdaptiveRates(
            self.database, pack.data, tick_seconds=self.settings.sampling_tick_seconds
        )
        self.rates.reload()
        self.gate = gate or build_gate(self.settings, pack, rates=self.rates)
        self._undo.callback(self.gate.close)
        self.pack = self.gate.pack
        self.bundle = PublishedBundle.of(self.pack)
        record_activation(self.database, self.pack, rego_backend=self.settings.rego_backend)

    def _start_decisions(self) -> None:
        settings = self.settings
        self.metrics = GatewayMetrics()
        register_review_metrics(self.metrics.registry, self.database)
        register_canary_metrics(
            self.metrics.registry,
            self.database,
            self.pack.data.canaries,
            name_reviewers=settings.metrics_name_reviewers,
        )
        self.permits = PermitSigner(
            self.database, issuer=settings.permit_issuer, ttl_seconds=settings.permit_ttl_seconds
        )
        self.shadow = ShadowEvaluator(
            self.database,
            lambda path: replay_gate(settings, load_rule_pack(path)),
            registry=self.metrics.registry,
            tick_seconds=settings.shadow_tick_seconds,
        )
        self.writer = DecisionWriter(self.database, batch_max=settings.audit_batch_max)
        self.writer.start()
        self._undo.callback(self.writer.stop)
        self.decider = Decider(
            self.gate,
            self.writer,
            self.metrics,
            self.permits,
            database=self.database,
            observer=self.shadow.submit,
            tracer=self.tracer,
        )
        self.watch = ResolutionWatch()
        self._wake_on_resolution.append(self.watch.resolved)
        self.decisions = DecisionWatch(
            self.database,
            self.pack,
            self.watch,
            recheck_seconds=settings.long_poll_recheck_seconds,
            max_wait_seconds=settings.long_poll_max_seconds,
        )

    def _open_reviews(self) -> None:
        self.desk = ReviewDesk(
            self.database,
            self.pack,
            lease=timedelta(seconds=self.settings.review_lease_seconds),
            on_resolved=_on_resolved,
            after_resolved=lambda review: self._resolved(review.decision_id),
        )
        self.board = ReviewBoard(self.database, self.pack)
        self.held_calls = HeldCalls(
            self.database, self.desk, partial(read_status, self.database, self.pack)
        )

    def _start_integrations(self) -> None:
        settings = self.settings
        self.destinations = Destinations([str(n) for n in settings.webhook_allowed_networks])
        self.webhooks = WebhookSender(
            self.database,
            backoff_seconds=settings.webhook_backoff_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            tick_seconds=settings.webhook_tick_seconds,
            destinations=self.destinations,
        )
        self._start(self.webhooks)
        self._wake_on_resolution.append(lambda _: self.webhooks.wake())
        self.slack = self._slack()

    def _slack(self) -> SlackInteractions | None:
        """Slack approvals, when the app's signing secret and bot token are both set."""
        settings = self.settings
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
            public_url=str(settings.public_url) if settings.public_url else None,
        )
        self._start(notifier)
        self._wake_on_resolution.append(lambda _: notifier.wake())
        return SlackInteractions(
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            client=client,
            database=self.database,
            desk=self.desk,
            board=self.board,
            changed=notifier.wake,
        )

    def _start_workers(self) -> None:
        settings = self.settings
        self._start(sla_clock(self.desk, tick_seconds=settings.sla_tick_seconds))
        self._start(self.shadow)
        self._start(self.rates)
        self.canaries = CanarySeeder(
            self.database, self.gate, tick_seconds=settings.canary_tick_seconds
        )
        self._start(self.canaries)
        self._start(
            Periodic(
                "audit-checkpoints",
                lambda: checkpoint_head(self.database, self.signing_key, paced=True),
                seconds=settings.audit_checkpoint_seconds,
            )
        )
        if self.database.dialect.name == "postgresql":  # other replicas' resolutions, at once
            self._start(Listener(self.database, RESOLVED_CHANNEL, self._resolved))

    # -- the machinery ------------------------------------------------------------------------

    def _start(self, worker: Worker) -> None:
        """Start a background worker; it stops before anything built before it."""
        worker.start()
        self._workers.append(worker)
        self._undo.callback(worker.stop)

    def _resolved(self, decision_id: str) -> None:
        """A review resolved, here or (heard by NOTIFY) on another gateway: wake its long
        polls, send its webhooks and update its Slack message now, not at the next tick."""
        for wake in self._wake_on_resolution:
            wake(decision_id)

    def _checkpoint_at_stop(self) -> None:
        """Sign the head as it is at stop, so a cut tail cannot go unnoticed until then."""
        try:
            checkpoint_head(self.database, self.signing_key)
        except Exception as exc:
            log.warning("no checkpoint at stop: %s", type(exc).__name__)

    # -- what the routes and the probes ask ---------------------------------------------------

    def ready(self) -> bool:
        """The store can be written, the writer runs and the evaluation backends can decide."""
        return writable(self.database) and self.writer.running and self.gate.healthy()

    def decides_with(self) -> dict[str, str]:
        """The rule pack revision and the Rego backend this process decides with."""
        return {"revision": self.pack.revision, "engine": self.settings.rego_backend}

    def stop_workers(self) -> None:
        """Stop the background workers (the SLA clock, webhooks, shadow, checkpoints, Slack);
        stopping one twice, as `close` will, does nothing more."""
        for worker in reversed(self._workers):
            worker.stop()

    def close(self) -> None:
        """Undo every step, in reverse: workers, writer (drained), backends, checkpoint, store."""
        self._undo.close()
