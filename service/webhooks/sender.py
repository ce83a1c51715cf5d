"""The webhook sender: posts due deliveries, signed per Standard Webhooks, with backoff.

Deliveries live in the database, so retries survive restarts and several gateway processes
share the work: a sender takes a delivery by moving its `next_attempt_at` forward with a
compare-and-set, so only one process posts each attempt. The retry schedule is persisted
per delivery (attempt n waits `backoff[n-1]`), which an in-process retry library cannot do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select, update
from standardwebhooks import Webhook

from service.errors import WebhookDestinationRefused
from service.periodic import Periodic
from service.store.database import writing
from service.store.utc import utc_now
from service.webhooks.destinations import Destinations
from service.webhooks.tables import WEBHOOK_DELIVERIES, WEBHOOKS

# How long a taken attempt is reserved for the process that took it.
_ATTEMPT_LEASE = timedelta(seconds=60)


class WebhookSender:
    """A thread that sends what the outbox queued until `stop`."""

    def __init__(
        self,
        database: Engine,
        *,
        backoff_seconds: Sequence[float],
        timeout_seconds: float,
        tick_seconds: float,
        destinations: Destinations,
    ) -> None:
        self._database = database
        self._destinations = destinations
        self._backoff = list(backoff_seconds)
        self._http = httpx.Client(timeout=timeout_seconds, follow_redirects=False)
        self._thread = Periodic("webhook-sender", self.send_due, seconds=tick_seconds)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def wake(self) -> None:
        """Send now (a review just resolved, here or on another gateway), not at the tick."""
        self._thread.wake()

    def stop(self) -> None:
        """Stop after the attempt in flight."""
        self._thread.stop()
        self._http.close()

    def send_due(self, limit: int = 50) -> int:
        """Attempt every delivery that is due; returns how many were attempted."""
        now = utc_now()
        with self._database.connect() as connection:
            due = connection.execute(
                select(WEBHOOK_DELIVERIES, WEBHOOKS.c.url, WEBHOOKS.c.secret, WEBHOOKS.c.revoked_at)
                .join(WEBHOOKS, WEBHOOKS.c.id == WEBHOOK_DELIVERIES.c.webhook_id)
                .where(
                    WEBHOOK_DELIVERIES.c.state == "pending",
                    WEBHOOK_DELIVERIES.c.next_attempt_at <= now,
                )
                .order_by(WEBHOOK_DELIVERIES.c.next_attempt_at)
                .limit(limit)
            ).all()
        attempted = 0
        for delivery in due:
            if self._take(delivery):
                self._attempt(delivery)
                attempted += 1
        return attempted

    def _take(self, delivery: Any) -> bool:
        with writing(self._database) as connection:
            return bool(
                connection.execute(
                    update(WEBHOOK_DELIVERIES)
                    .where(
                        WEBHOOK_DELIVERIES.c.id == delivery.id,
                        WEBHOOK_DELIVERIES.c.state == "pending",
                        WEBHOOK_DELIVERIES.c.next_attempt_at == delivery.next_attempt_at,
                    )
                    .values(next_attempt_at=utc_now() + _ATTEMPT_LEASE)
                ).rowcount
            )

    def _attempt(self, delivery: Any) -> None:
        attempts = delivery.attempts + 1
        if delivery.revoked_at is not None:
            self._record(delivery.id, {"state": "failed", "last_error": "webhook revoked"})
            return
        now = utc_now()
        signature = Webhook(delivery.secret).sign(delivery.id, now, delivery.payload)
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        status: int | None = None
        error: str | None = None
        try:
            # Checked again now, before any connection: the address may have changed.
            target = self._destinations.pinned(delivery.url)
        except WebhookDestinationRefused as exc:
            self._record(
                delivery.id, {"state": "failed", "attempts": attempts, "last_error": str(exc)}
            )
            return
        try:
            response = self._http.post(
                target.url,
                content=delivery.payload,
                headers=headers | target.headers,
                extensions=target.extensions,
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__  # never the URL's query or the secret
        if status is not None and 200 <= status < 300:
            changes: dict[str, Any] = {"state": "delivered", "delivered_at": utc_now()}
        elif attempts > len(self._backoff):
            changes = {"state": "failed"}
        else:
            wait = timedelta(seconds=self._backoff[attempts - 1])
            changes = {"next_attempt_at": utc_now() + wait}
            error = error or f"HTTP {status}"
        self._record(
            delivery.id,
            changes | {"attempts": attempts, "last_status": status, "last_error": error},
        )

    def _record(self, delivery_id: str, changes: dict[str, Any]) -> None:
        with writing(self._database) as connection:
            connection.execute(
                update(WEBHOOK_DELIVERIES)
                .where(WEBHOOK_DELIVERIES.c.id == delivery_id)
                .values(**changes)
            )
