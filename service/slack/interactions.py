"""What happens when a reviewer presses a button in Slack, through slack-bolt.

Every request is verified with the app's signing secret before Bolt sees it (a bad, missing
or malformed signature or timestamp, or one more than 5 minutes off, is 401), and a signed
body must be one form field `payload` holding a JSON object whose parts Bolt reads are of
the shapes Slack sends (else 400): nothing malformed reaches a listener, or a 500. The
Slack user acts as the person linked to them, through that person's live reviewer key, and
every step goes through the review desk, so four eyes, two approvers, claims and single use
hold as they do on the page. A refusal is said to the user alone (an ephemeral message, or
an error in the modal) and nothing changes.

- Approve: approves (the review resolves when enough distinct people approved).
- Reject: opens a modal for the note a rejection needs; submitting it rejects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.auth.principals import Principal
from service.auth.slack_users import slack_reviewer
from service.errors import InvalidSlackPayload, NotFound, ServiceError, SlackSignatureInvalid
from service.reviews.board import ReviewBoard
from service.reviews.desk import ReviewDesk
from service.reviews.models import IncidentCause, ReviewState
from service.slack.messages import (
    APPROVE,
    CAUSE_BLOCK,
    CAUSE_INPUT,
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
        self._verifier = SignatureVerifier(signing_secret)
        bot = AuthorizeResult(enterprise_id=None, team_id=None, bot_token=client.token)
        self._app = App(
            signing_secret=signing_secret,
            client=client,
            # One workspace, one bot token: nothing to look up per request, so no call to
            # Slack (auth.test) stands between a click and the review desk.
            authorize=lambda **_: bot,
            ignoring_self_events_enabled=False,
            process_before_response=True,  # answer Slack once the step is recorded
            request_verification_enabled=True,
            raise_error_for_unhandled_request=False,
        )
        self._app.action(APPROVE)(self._approve)
        self._app.action(REJECT)(self._open_reject)
        self._app.view(REJECT_NOTE)(self._reject)

    def dispatch(self, body: bytes, query: str, headers: Mapping[str, str]) -> BoltResponse:
        """Verify and handle one request from Slack (blocking: run it in a worker thread).
        SlackSignatureInvalid or InvalidSlackPayload when it cannot be handled."""
        text = body.decode("utf-8", "replace")
        if not self._signed_by_slack(text, headers):
            raise SlackSignatureInvalid()
        if not _slack_shaped(text):
            raise InvalidSlackPayload()
        answer = self._app.dispatch(BoltRequest(body=text, query=query, headers=dict(headers)))
        if answer.status == 401:
            raise SlackSignatureInvalid()
        if answer.status == 404:
            raise NotFound("this Slack app handles the review buttons and the reject note only")
        return answer

    def _signed_by_slack(self, text: str, headers: Mapping[str, str]) -> bool:
        """The signature verifies, over a timestamp of ASCII digits within 5 minutes (the
        verifier itself raises on a timestamp that is not a number, or a non-ASCII one)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        timestamp = lowered.get("x-slack-request-timestamp", "")
        signature = lowered.get("x-slack-signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return False
        if not signature.isascii():
            return False
        return self._verifier.is_valid(body=text, timestamp=timestamp, signature=signature)

    # -- listeners --------------------------------------------------------------------------

    def _approve(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        press = self._press(body, client)
        if press is None:
            return
        try:
            review = self._desk.approve(press.review_id, press.reviewer)
        except (ServiceError, SQLAlchemyError) as refusal:
            press.tell(_refusal_text(refusal))
            return
        self._changed()
        if review.state is not ReviewState.APPROVED:
            press.tell(
                f"Your approval is recorded ({len(review.approvals)} of "
                f"{review.approvals_required})."
            )

    def _open_reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        press = self._press(body, client)
        if press is None:
            return
        try:  # may this person work the review's queue? The desk checks the rest on submit.
            self._board.packet(press.review_id, press.reviewer)
        except (ServiceError, SQLAlchemyError) as refusal:
            press.tell(_refusal_text(refusal))
            return
        modal = reject_modal(
            press.review_id, press.channel, str(body.get("message", {}).get("ts", ""))
        )
        try:
            client.views_open(trigger_id=body.get("trigger_id", ""), view=modal)
        except (SlackClientError, OSError) as error:
            log.warning("slack: the reject modal did not open: %s", type(error).__name__)

    def _reject(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            review_id = view["private_metadata"].split("|")[0]
            values = view["state"]["values"]
            note = values[NOTE_BLOCK][NOTE_INPUT].get("value") or ""
            chosen = (values.get(CAUSE_BLOCK, {}).get(CAUSE_INPUT) or {}).get("selected_option")
            cause = IncidentCause.named((chosen or {}).get("value")) or IncidentCause.OTHER
            user = body["user"]["id"]
        except (KeyError, IndexError, TypeError, AttributeError):
            ack()  # signed by Slack, yet not our modal's shape: nothing to do
            return
        reviewer = slack_reviewer(self._database, user)
        if reviewer is None:
            ack(response_action="errors", errors={NOTE_BLOCK: NOT_LINKED.format(user=user)})
            return
        try:
            self._desk.reject(review_id, reviewer, note, cause)
        except (ServiceError, SQLAlchemyError) as refusal:
            ack(response_action="errors", errors={NOTE_BLOCK: _refusal_text(refusal)})
            return
        ack()
        self._changed()

    def _press(self, body: dict[str, Any], client: WebClient) -> _Press | None:
        """Who pressed which review's button, where, as the person they are linked to; None
        (after telling them, when they are not linked) when no reviewer may act on it."""
        try:
            user, channel = body["user"]["id"], body["channel"]["id"]
            review_id = body["actions"][0]["value"]
        except (KeyError, IndexError, TypeError):
            log.warning("slack: a button press without its user, channel or review")
            return None
        reviewer = slack_reviewer(self._database, user)
        if reviewer is None:
            _tell(client, channel, user, NOT_LINKED.format(user=user))
            return None
        return _Press(client, user, channel, str(review_id), reviewer)


@dataclass(frozen=True)
class _Press:
    """A button press by a linked reviewer."""

    client: WebClient
    user: str
    channel: str
    review_id: str
    reviewer: Principal

    def tell(self, text: str) -> None:
        """Say `text` to the person who pressed, alone."""
        _tell(self.client, self.channel, self.user, text)


# The parts of a payload Bolt reads before any listener, and the JSON type each must have.
_PARTS = {"user": dict, "team": dict, "channel": dict, "view": dict, "actions": list}


def _slack_shaped(text: str) -> bool:
    """A form with one `payload` field holding a JSON object whose parts are shaped as
    Slack sends them; anything else would make Bolt raise before it answers."""
    fields = parse_qs(text, keep_blank_values=True)
    if list(fields) != ["payload"] or len(fields["payload"]) != 1:
        return False
    try:
        payload = json.loads(fields["payload"][0])
    except ValueError:
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    if any(k in payload and not isinstance(payload[k], t) for k, t in _PARTS.items()):
        return False
    return all(isinstance(action, dict) for action in payload.get("actions", []))


def _refusal_text(refusal: Exception) -> str:
    if isinstance(refusal, ServiceError):
        return f"Nothing changed: {refusal} ({refusal.code})."
    return STORE_DOWN


def _tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A message only `user` sees."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except (SlackClientError, OSError) as error:
        log.warning("slack: an ephemeral message failed: %s", type(error).__name__)
