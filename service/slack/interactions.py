"""What happens when a reviewer presses a button in Slack, through slack-bolt.

Bolt verifies every request with the app's signing secret (a bad or missing signature, or a
timestamp more than 5 minutes off, is refused with 401 before any listener runs). The
Slack user acts as the person linked to them, through that person's live reviewer key, and
every step goes through the review desk, so four eyes, two approvers, claims and single use
hold as they do on the page. A refusal is said to the user alone (an ephemeral message, or
an error in the modal) and nothing changes.

- Approve: approves (the review resolves when enough distinct people approved).
- Reject: opens a modal for the note a rejection needs; submitting it rejects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.auth.principals import Principal
from service.errors import ServiceError
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.reviews.models import ReviewState
from service.slack.links import slack_reviewer
from service.slack.messages import (
    APPROVE,
    NOTE_BLOCK,
    NOTE_INPUT,
    REJECT,
    REJECT_NOTE,
    reject_modal,
)

log = logging.getLogger(__name__)
NOT_LINKED = (
    "You are not linked to a Sluicegate reviewer, so nothing changed. An administrator can "
    "link you: `sluicegate principals link NAME --slack-user {user}`."
)
STORE_DOWN = "The gate could not record that just now; nothing changed. Try again shortly."


class SlackInteractions:
    """The Bolt app that answers `POST /v1/integrations/slack/interactions`."""

    def __init__(
        self,
        *,
        signing_secret: str,
        client: WebClient,
        database: Engine,
        desk: ReviewDesk,
        board: ReviewBoard,
        changed: Callable[[], None],
    ) -> None:
        self._database = database
        self._desk = desk
        self._board = board
        self._changed = changed
        self._app = App(
            signing_secret=signing_secret,
            client=client,
            token=client.token,
            token_verification_enabled=False,
            process_before_response=True,  # answer Slack once the step is recorded
            request_verification_enabled=True,
            raise_error_for_unhandled_request=False,
        )
        self._app.action(APPROVE)(self._approve)
        self._app.action(REJECT)(self._open_reject)
        self._app.view(REJECT_NOTE)(self._reject)

    def dispatch(self, body: bytes, query: str, headers: Mapping[str, str]) -> BoltResponse:
        """Verify and handle one request from Slack (blocking: run it in a worker thread)."""
        request = BoltRequest(
            body=body.decode("utf-8", "replace"), query=query, headers=dict(headers)
        )
        return self._app.dispatch(request)

    # -- listeners --------------------------------------------------------------------------

    def _approve(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel, review_id = _who_where_what(body)
        reviewer = self._reviewer_or_refuse(client, channel, user)
        if reviewer is None:
            return
        try:
            review = self._desk.approve(review_id, reviewer)
        except (ServiceError, SQLAlchemyError) as refusal:
            _tell(client, channel, user, _refusal_text(refusal))
            return
        self._changed()
        if review.state is not ReviewState.APPROVED:
            count = f"{len(review.approvals)} of {review.approvals_required}"
            _tell(client, channel, user, f"Your approval is recorded ({count}).")

    def _open_reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel, review_id = _who_where_what(body)
        reviewer = self._reviewer_or_refuse(client, channel, user)
        if reviewer is None:
            return
        try:
            self._board.packet(review_id, reviewer)  # may this person work the review's queue?
        except (ServiceError, SQLAlchemyError) as refusal:
            _tell(client, channel, user, _refusal_text(refusal))
            return
        ts = body.get("message", {}).get("ts", "")
        try:
            client.views_open(
                trigger_id=body["trigger_id"], view=reject_modal(review_id, channel, ts)
            )
        except SlackClientError as error:
            log.warning("slack: the reject modal did not open: %s", type(error).__name__)

    def _reject(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        review_id = view["private_metadata"].split("|")[0]
        note = view["state"]["values"][NOTE_BLOCK][NOTE_INPUT].get("value") or ""
        user = body["user"]["id"]
        reviewer = slack_reviewer(self._database, user)
        if reviewer is None:
            ack(response_action="errors", errors={NOTE_BLOCK: NOT_LINKED.format(user=user)})
            return
        try:
            self._desk.reject(review_id, reviewer, note)
        except (ServiceError, SQLAlchemyError) as refusal:
            ack(response_action="errors", errors={NOTE_BLOCK: _refusal_text(refusal)})
            return
        ack()
        self._changed()

    def _reviewer_or_refuse(self, client: WebClient, channel: str, user: str) -> Principal | None:
        reviewer = slack_reviewer(self._database, user)
        if reviewer is None:
            _tell(client, channel, user, NOT_LINKED.format(user=user))
        return reviewer


def _who_where_what(body: dict[str, Any]) -> tuple[str, str, str]:
    """The Slack user, the channel and the review id of a button press."""
    return body["user"]["id"], body["channel"]["id"], body["actions"][0]["value"]


def _refusal_text(refusal: Exception) -> str:
    if isinstance(refusal, ServiceError):
        return f"Nothing changed: {refusal} ({refusal.code})."
    return STORE_DOWN


def _tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A message only `user` sees."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackClientError as error:
        log.warning("slack: an ephemeral message failed: %s", type(error).__name__)
