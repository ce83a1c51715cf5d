"""Approvals in Slack, end to end: a served gateway with a Slack app, a fake Slack Web API
that records what it receives, and interaction payloads signed as Slack signs them (verified
by slack-bolt's request verification)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sluicegate_client import GateClient

from service.auth.keys import create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.auth.slack_users import link_slack_user
from service.settings import Settings
from service.slack.messages import (
    APPROVE,
    CAUSE_BLOCK,
    CAUSE_INPUT,
    NOTE_BLOCK,
    NOTE_INPUT,
    REJECT,
    REJECT_NOTE,
)
from service.store.database import database_engine, migrate
from tests.background import InBackground
from tests.fixtures import AUDIT_KEY, REFUND, RULES
from tests.loopback import serving
from tests.service.slack.fake_slack import CHANNEL_ID, FakeSlack, fake_slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
INTERACTIONS = "/v1/integrations/slack/interactions"
LEAD, OWNER, SUPPORT, STRANGER = "U0FINLEAD", "U0OWNER", "U0SUPPORT", "U0NOBODY"


@dataclass(frozen=True)
class Gateway:
    url: str
    slack: FakeSlack
    agent_key: str
    reviewer_key: str

    def review_of(self, decision_id: str) -> dict[str, Any]:
        answer = httpx.get(
            f"{self.url}/v1/decisions/{decision_id}",
            headers={"Authorization": f"Bearer {self.agent_key}"},
        )
        answer.raise_for_status()
        review: dict[str, Any] = answer.json()["review"]
        return review

    def routed(self, key: str) -> tuple[str, str]:
        """A new refund routed to finance-approvers: its decision and review ids."""
        answer = httpx.post(
            f"{self.url}/v1/decisions",
            json=REFUND | {"idempotency_key": key},
            headers={"Authorization": f"Bearer {self.agent_key}"},
        )
        assert answer.status_code == 201, answer.text
        decision = answer.json()
        return decision["decision_id"], decision["review"]["id"]


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    with _served(database_url, RULES) as served:
        yield served


@contextmanager
def _served(url: str, rules: Path) -> Iterator[Gateway]:
    """A gateway with a Slack app, its people linked, in front of a fake Slack."""
    engine = database_engine(url)
    migrate(engine)
    group = ["group:finance-approvers"]
    create_key(engine, name="owner", role=Role.REVIEWER, scopes=group)
    _, agent_key = create_key(
        engine,
        name="billing-bot",
        role=Role.AGENT,
        scopes=["*"],
        owner_id=principal_named(engine, "owner"),
    )
    _, reviewer_key = create_key(engine, name="fin-lead", role=Role.REVIEWER, scopes=group)
    create_key(engine, name="support", role=Role.REVIEWER, scopes=["group:support-leads"])
    for name, user in (("fin-lead", LEAD), ("owner", OWNER), ("support", SUPPORT)):
        link_slack_user(engine, name, user)
    engine.dispose()
    with fake_slack() as (slack, api_url):
        settings = Settings(
            database_url=url,
            audit_signing_key=AUDIT_KEY,
            rules=rules,
            sla_tick_seconds=0.2,
            slack_signing_secret=SECRET,
            slack_bot_token=BOT_TOKEN,
            slack_api_url=api_url,
            slack_tick_seconds=0.2,
        )
        with serving(settings) as base:
            yield Gateway(base, slack, agent_key, reviewer_key)


def _signed(
    payload: dict[str, Any], *, at: float | None = None, secret: str = SECRET
) -> tuple[str, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return body, headers


def _press(action: str, review_id: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0ACME", "domain": "acme"},
        "user": {"id": user, "team_id": "T0ACME"},
        "api_app_id": "A0SLUICE",
        "token": "legacy-unused",
        "trigger_id": f"trigger-{user}",
        "channel": {"id": CHANNEL_ID, "name": "finance-approvals"},
        "container": {"type": "message", "channel_id": CHANNEL_ID},
        "message": {"ts": "1767000000.000100", "type": "message"},
        "response_url": "https://hooks.slack.invalid/unused",
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": f"review:{review_id}",
                "value": review_id,
                "action_ts": "1767000001.000000",
            }
        ],
    }


def _submit_note(review_id: str, user: str, note: str, cause: str = "other") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0ACME", "domain": "acme"},
        "user": {"id": user, "team_id": "T0ACME"},
        "api_app_id": "A0SLUICE",
        "token": "legacy-unused",
        "trigger_id": "trigger-submit",
        "view": {
            "id": "V0REJECT",
            "type": "modal",
            "callback_id": REJECT_NOTE,
            "private_metadata": f"{review_id}|{CHANNEL_ID}|1767000000.000100",
            "state": {
                "values": {
                    NOTE_BLOCK: {NOTE_INPUT: {"type": "plain_text_input", "value": note}},
                    CAUSE_BLOCK: {
                        CAUSE_INPUT: {"type": "static_select", "selected_option": {"value": cause}}
                    },
                }
            },
        },
    }


def _post(gateway: Gateway, body: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{gateway.url}{INTERACTIONS}", content=body, headers=headers)


def _unchanged(gateway: Gateway, decision_id: str) -> None:
    review = gateway.review_of(decision_id)
    assert review["state"] == "pending"


@pytest.mark.integration
def test_a_review_is_posted_then_approved_in_slack_and_the_waiting_agent_sees_it(
    gateway: Gateway,
) -> None:
    decision_id, review_id = gateway.routed("slack-approve")
    posted = gateway.slack.wait_for("chat.postMessage")[0]
    assert posted["channel"] == "#finance-approvals"
    assert posted["_authorization"] == f"Bearer {BOT_TOKEN}"
    blocks = json.dumps(posted["blocks"])
    assert "payments.refund.issue" in blocks
    assert "money.irreversible_over_limit" in blocks  # the reasons
    assert "Due <!date^" in blocks  # the time box
    buttons = posted["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [APPROVE, REJECT]
    assert {b["value"] for b in buttons} == {review_id}

    def agent_waits() -> str:
        with GateClient(gateway.url, gateway.agent_key) as agent:
            return agent.get(decision_id, wait=20).status.value

    waiting = InBackground(agent_waits, name="the agent's long poll")
    time.sleep(0.3)  # the agent's long poll is open
    answer = _post(gateway, *_signed(_press(APPROVE, review_id, LEAD)))
    assert answer.status_code == 200
    assert waiting.result(timeout=25) == "approved"

    update = gateway.slack.wait_for("chat.update")[0]
    assert update["channel"] == CHANNEL_ID
    assert update["ts"] == "1767000000.000100"
    assert "Approved* by fin-lead" in json.dumps(update["blocks"])
    assert "actions" not in {block["type"] for block in update["blocks"]}  # no more buttons

    # Single use: a second press changes nothing and says why, to that user alone.
    _post(gateway, *_signed(_press(APPROVE, review_id, LEAD)))
    refusal = gateway.slack.wait_for("chat.postEphemeral")[-1]
    assert refusal["user"] == LEAD
    assert "review_closed" in refusal["text"]


@pytest.mark.integration
def test_forged_stale_or_unsigned_requests_are_refused_and_change_nothing(
    gateway: Gateway,
) -> None:
    decision_id, review_id = gateway.routed("slack-forged")
    press = _press(APPROVE, review_id, LEAD)
    forged_body, forged = _signed(press, secret="not-the-apps-secret")
    stale_body, stale = _signed(press, at=time.time() - 6 * 60)
    unsigned_body, unsigned = _signed(press)
    del unsigned["X-Slack-Signature"]
    for body, headers in ((forged_body, forged), (stale_body, stale), (unsigned_body, unsigned)):
        answer = _post(gateway, body, headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "slack_signature_invalid"
    _unchanged(gateway, decision_id)
    assert gateway.slack.sent("chat.postEphemeral") == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("user", "said"),
    [
        (STRANGER, "not linked"),
        (OWNER, "four_eyes"),  # the agent's accountable owner, although in the queue's group
        (SUPPORT, "not_queue_reviewer"),
    ],
    ids=["unlinked", "the-agents-owner", "another-queues-reviewer"],
)
def test_who_may_not_approve_is_told_so_alone_and_nothing_changes(
    gateway: Gateway, user: str, said: str
) -> None:
    decision_id, review_id = gateway.routed(f"slack-{user}")
    answer = _post(gateway, *_signed(_press(APPROVE, review_id, user)))
    assert answer.status_code == 200
    refusal = gateway.slack.wait_for("chat.postEphemeral")[-1]
    assert refusal["user"] == user
    assert said in refusal["text"]
    _unchanged(gateway, decision_id)


@pytest.mark.integration
def test_reject_asks_for_a_note_in_a_modal_then_rejects(gateway: Gateway) -> None:
    decision_id, review_id = gateway.routed("slack-reject")
    gateway.slack.wait_for("chat.postMessage")
    assert _post(gateway, *_signed(_press(REJECT, review_id, LEAD))).status_code == 200
    modal = gateway.slack.wait_for("views.open")[0]
    assert modal["trigger_id"] == f"trigger-{LEAD}"
    assert modal["view"]["callback_id"] == REJECT_NOTE
    _unchanged(gateway, decision_id)  # opening the modal decides nothing

    blank = _post(gateway, *_signed(_submit_note(review_id, LEAD, "  ")))
    assert blank.json()["response_action"] == "errors"
    _unchanged(gateway, decision_id)

    done = _post(
        gateway, *_signed(_submit_note(review_id, LEAD, "duplicate of INV-7", "missing_context"))
    )
    assert done.status_code == 200
    review = gateway.review_of(decision_id)
    assert review["state"] == "rejected"
    assert review["note"] == "duplicate of INV-7"
    assert review["cause"] == "missing_context"
    update = json.dumps(gateway.slack.wait_for("chat.update")[0]["blocks"])
    assert "Rejected* by fin-lead" in update
    assert "duplicate of INV-7" in update


@pytest.mark.integration
def test_a_review_resolved_elsewhere_updates_its_message(gateway: Gateway) -> None:
    _, review_id = gateway.routed("slack-elsewhere")
    gateway.slack.wait_for("chat.postMessage")
    approved = httpx.post(
        f"{gateway.url}/v1/reviews/{review_id}/approve",
        json={"note": "checked on the page"},
        headers={"Authorization": f"Bearer {gateway.reviewer_key}"},
    )
    assert approved.status_code == 200, approved.text
    update = json.dumps(gateway.slack.wait_for("chat.update")[0]["blocks"])
    assert "Approved* by fin-lead" in update
    assert "checked on the page" in update


@pytest.mark.integration
def test_a_review_that_times_out_updates_its_message(database_url: str, pack_copy: Path) -> None:
    queues = pack_copy / "data" / "queues.yaml"
    finance = 'slack_channel: "#finance-approvals"\n  sla: PT4H'
    assert finance in queues.read_text()
    queues.write_text(queues.read_text().replace(finance, finance.replace("PT4H", "PT3S")))
    with _served(database_url, pack_copy) as gateway:
        decision_id, _ = gateway.routed("slack-expires")
        gateway.slack.wait_for("chat.postMessage")
        update = json.dumps(gateway.slack.wait_for("chat.update")[0]["blocks"])
        assert "Expired*: nobody decided by" in update
        assert gateway.review_of(decision_id)["state"] == "expired"


@pytest.mark.integration
def test_signed_payloads_of_another_shape_are_answered_cleanly_and_change_nothing(
    gateway: Gateway,
) -> None:
    decision_id, review_id = gateway.routed("slack-odd")

    def signed_raw(body: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        assert signature is not None
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        return _post(gateway, body, headers)

    not_json = signed_raw("payload=not-json")
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "invalid_slack_payload"
    unsigned_not_json = _post(gateway, "payload=not-json", {"X-Slack-Signature": "v0=00"})
    assert unsigned_not_json.status_code == 401
    shortcut = signed_raw(urlencode({"payload": json.dumps({"type": "shortcut"})}))
    assert shortcut.status_code == 404
    assert shortcut.json()["error"]["code"] == "not_found"
    press = _press(APPROVE, review_id, LEAD)
    del press["channel"]
    assert _post(gateway, *_signed(press)).status_code == 200
    _unchanged(gateway, decision_id)
