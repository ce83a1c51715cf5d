"""The Slack worker: posts each new blocking review of a queue that has a channel, and
updates the message once the review resolves (in Slack, on the page, through the API, or
by its time box).

Messages live in `slack_messages`, so a restart neither loses nor repeats one, and several
gateway processes share the work: a process takes a row by moving its `next_attempt_at`
forward with a compare-and-set, as the webhook sender does. A failed Slack call is tried
again with backoff (Slack's own rate-limit and connection retries come from slack_sdk)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from policy.rule_pack import RulePack
from service.auth.principals import name_of
from service.periodic import Periodic
from service.reviews.board import ReviewBoard
from service.reviews.models import ReviewKind
from service.reviews.tables import REVIEW_TASKS
from service.reviews.tasks import OPEN
from service.slack.messages import closed_message, open_message
from service.slack.tables import SLACK_MESSAGES
from service.store.database import writing
from service.store.utc import utc_now

log = logging.getLogger(__name__)
TO_POST, POSTED, CLOSED, FAILED = "post", "open", "closed", "failed"
# How long a taken row is reserved for the process that took it.
_LEASE = timedelta(seconds=60)
# Waits after failed attempts, in seconds; after the last one the row is failed.
BACKOFF_SECONDS = (2.0, 10.0, 60.0, 300.0, 1800.0)
_BATCH = 50


def slack_web_client(token: str, api_url: str) -> WebClient:
    """slack_sdk's client for Slack's Web API at `api_url`, retrying rate limits."""
    client = WebClient(token=token, base_url=api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


class SlackNotifier:
    """Posts and updates review messages until `stop`."""

    def __init__(
        self,
        database: Engine,
        pack: RulePack,
        board: ReviewBoard,
        client: WebClient,
        *,
        tick_seconds: float,
        public_url: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._public_url = public_url.rstrip("/") if public_url else None
        self._board = board
        self._client = client
        self._clock = clock
        self._channels = {
            name: queue.slack_channel
            for name, queue in pack.data.queues.items()
            if queue.slack_channel
        }
        self._thread = Periodic("slack-notifier", self.run_once, seconds=tick_seconds)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the call in flight."""
        self._thread.stop()

    def wake(self) -> None:
        """Post or update now (a review just changed) rather than at the next tick."""
        self._thread.wake()

    def run_once(self) -> int:
        """Queue new reviews, then post and update what is due; returns how many calls."""
        self._queue_new()
        return self._post_due() + self._update_resolved()

    def _queue_new(self) -> None:
        if not self._channels:
            return
        known = select(SLACK_MESSAGES.c.review_id)
        with self._database.connect() as connection:
            new = connection.execute(
                select(REVIEW_TASKS.c.id, REVIEW_TASKS.c.queue)
                .where(
                    REVIEW_TASKS.c.state == OPEN,
                    REVIEW_TASKS.c.kind == ReviewKind.BLOCKING.value,
                    REVIEW_TASKS.c.queue.in_(list(self._channels)),
                    REVIEW_TASKS.c.id.not_in(known),
                )
                .order_by(REVIEW_TASKS.c.created_at)
                .limit(_BATCH)
            ).all()
        now = self._clock()
        for review_id, queue in new:
            row = {
                "review_id": review_id,
                "channel": self._channels[queue],
                "state": TO_POST,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            try:
                with writing(self._database) as connection:
                    connection.execute(insert(SLACK_MESSAGES), [row])
            except IntegrityError:
                continue  # another gateway process queued it first

    def _post_due(self) -> int:
        posted = 0
        for row in self._due(SLACK_MESSAGES.c.state == TO_POST):
            if not self._take(row):
                continue
            packet = self._board.packet_of(row.review_id)
            if packet is None:
                self._set(row.review_id, state=FAILED, last_error="review not found")
                continue
            text, blocks = open_message(packet, self._page_of(packet.id))
            try:
                answer = self._client.chat_postMessage(
                    channel=row.channel, text=text, blocks=blocks
                )
            except (SlackClientError, OSError) as error:  # OSError: Slack unreachable
                self._failed(row, error)
                continue
            # Slack answers with the channel's id even when posted to a #name; updates need it.
            self._set(
                row.review_id,
                state=POSTED,
                ts=answer["ts"],
                channel=answer["channel"],
                last_error=None,
            )
            posted += 1
        return posted

    def _update_resolved(self) -> int:
        with self._database.connect() as connection:
            resolved = [
                review_id
                for (review_id,) in connection.execute(
                    select(SLACK_MESSAGES.c.review_id)
                    .join(REVIEW_TASKS, REVIEW_TASKS.c.id == SLACK_MESSAGES.c.review_id)
                    .where(SLACK_MESSAGES.c.state == POSTED, REVIEW_TASKS.c.state != OPEN)
                    .limit(_BATCH)
                ).all()
            ]
        updated = 0
        for row in self._due(SLACK_MESSAGES.c.review_id.in_(resolved)):
            if not self._take(row):
                continue
            packet = self._board.packet_of(row.review_id)
            assert packet is not None  # a posted review is never deleted
            resolver = self._name_of(packet.resolved_by)
            text, blocks = closed_message(packet, resolver, self._page_of(packet.id))
            try:
                self._client.chat_update(channel=row.channel, ts=row.ts, text=text, blocks=blocks)
            except (SlackClientError, OSError) as error:  # OSError: Slack unreachable
                self._failed(row, error)
                continue
            self._set(row.review_id, state=CLOSED, last_error=None)
            updated += 1
        return updated

    def _due(self, condition: Any) -> list[Any]:
        with self._database.connect() as connection:
            return list(
                connection.execute(
                    select(SLACK_MESSAGES)
                    .where(condition, SLACK_MESSAGES.c.next_attempt_at <= self._clock())
                    .order_by(SLACK_MESSAGES.c.next_attempt_at)
                    .limit(_BATCH)
                ).all()
            )

    def _take(self, row: Any) -> bool:
        with writing(self._database) as connection:
            return bool(
                connection.execute(
                    update(SLACK_MESSAGES)
                    .where(
                        SLACK_MESSAGES.c.review_id == row.review_id,
                        SLACK_MESSAGES.c.state == row.state,
                        SLACK_MESSAGES.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=self._clock() + _LEASE)
                ).rowcount
            )

    def _failed(self, row: Any, error: SlackClientError | OSError) -> None:
        attempts = row.attempts + 1
        # Slack's error code (e.g. channel_not_found), never the token or the message.
        reason = error.response.get("error") if isinstance(error, SlackApiError) else None
        reason = str(reason or type(error).__name__)
        log.warning("slack: %s for review %s (attempt %d)", reason, row.review_id, attempts)
        if attempts > len(BACKOFF_SECONDS):
            self._set(row.review_id, state=FAILED, attempts=attempts, last_error=reason)
            return
        wait = timedelta(seconds=BACKOFF_SECONDS[attempts - 1])
        self._set(
            row.review_id,
            attempts=attempts,
            last_error=reason,
            next_attempt_at=self._clock() + wait,
        )

    def _set(self, review_id: str, **changes: Any) -> None:
        if "next_attempt_at" not in changes:
            changes["next_attempt_at"] = self._clock()
        with writing(self._database) as connection:
            connection.execute(
                update(SLACK_MESSAGES)
                .where(SLACK_MESSAGES.c.review_id == review_id)
                .values(**changes)
            )

    def _page_of(self, review_id: str) -> str | None:
        """The review's page, where the whole packet is, when the public address is known."""
        return f"{self._public_url}/ui/reviews/{review_id}" if self._public_url else None

    def _name_of(self, principal_id: str | None) -> str | None:
        if principal_id is None:
            return None
        with self._database.connect() as connection:
            return name_of(connection, principal_id)
