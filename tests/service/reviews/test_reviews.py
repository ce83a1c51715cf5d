"""Reviews against a real gateway on loopback, on SQLite and on PostgreSQL: races between
reviewers, the SLA clock in two gateways at once, signed webhooks with retries, the waiting
client, and who may see what."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from pydantic import SecretStr
from sluicegate_client import ActionDenied, AsyncGateClient, GateClient, gated
from sqlalchemy import text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.background import InBackground, all_results
from tests.fixtures import REFUND, RULES
from tests.loopback import free_port, serving

ROUNDS = 12
AUDIT_KEY = new_private_pem()


@dataclass
class Served:
    """A gateway on loopback with an agent, three reviewers and an auditor."""

    base: str
    settings: Settings
    keys: dict[str, str]

    def http(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=40
        )

    def refund(self, **changes: Any) -> dict[str, Any]:
        with self.http("agent") as agent:
            answer = agent.post("/v1/decisions", json=REFUND | changes)
            assert answer.status_code == 201, answer.text
            body: dict[str, Any] = answer.json()
            return body


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        audit_signing_key=SecretStr(AUDIT_KEY),
        rules=RULES,
        sla_tick_seconds=0.05,
        webhook_tick_seconds=0.05,
        webhook_backoff_seconds=(0.2, 0.2),
        webhook_allowed_networks=("127.0.0.1/32",),  # the test's receiver is on loopback
    )


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    settings = _settings(database_url)
    engine = database_engine(settings.database_url)
    migrate(engine)
    people = {
        "agent": (Role.AGENT, ["*"]),
        "fiona": (Role.REVIEWER, ["group:finance-approvers"]),
        "felix": (Role.REVIEWER, ["group:finance-approvers"]),
        "cora": (Role.REVIEWER, ["group:customer-success"]),
        "audrey": (Role.AUDITOR, []),
    }
    keys = {
        name: create_key(engine, name=name, role=role, scopes=scopes)[1]
        for name, (role, scopes) in people.items()
    }
    engine.dispose()
    with serving(settings) as base:
        yield Served(base, settings, keys)


def _race(served: Served, step: str, review_id: str) -> list[httpx.Response]:
    """fiona and felix send the same step at the same instant, each on their own connection."""
    clients = [served.http("fiona"), served.http("felix")]
    for client in clients:  # connect first, so the race is between the requests themselves
        client.get("/v1/reviews/queues")
    start = threading.Barrier(2)

    def send(client: httpx.Client) -> httpx.Response:
        start.wait(timeout=10)
        return client.post(f"/v1/reviews/{review_id}/{step}", json={})

    racing = [InBackground(partial(send, c), name=f"a reviewer's {step}") for c in clients]
    try:
        return all_results(racing, timeout=30)
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("step", ["claim", "approve"])
def test_two_reviewers_racing_for_the_same_review_exactly_one_wins(
    served: Served, step: str
) -> None:
    for _ in range(ROUNDS):
        review_id = served.refund()["review"]["id"]
        answers = _race(served, step, review_id)
        assert sorted(a.status_code for a in answers) == [200, 409]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["error"]["code"] in {
            "claimed_by_other",
            "review_closed",
            "review_conflict",
        }
    with served.http("audrey") as auditor:
        reviews = auditor.get("/v1/reviews", params={"limit": 200}).json()
    won = [r for r in reviews if (r["claimed_by"] if step == "claim" else r["approvals"])]
    assert len(won) == ROUNDS
    if step == "approve":
        assert all(len(r["approvals"]) == 1 for r in reviews)


def test_the_sla_clock_in_two_gateways_times_each_review_out_exactly_once(
    database_url: str,
) -> None:
    settings = _settings(database_url)
    first, second = Runtime(settings), Runtime(settings)  # two processes' worth of state
    try:
        for runtime in (first, second):
            runtime.stop_workers()  # drive the sweeps by hand, concurrently
        _, key = create_key(first.database, name="agent", role=Role.AGENT, scopes=["*"])
        with serving(settings) as base:
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(20):
                httpx.post(f"{base}/v1/decisions", json=REFUND, headers=headers)
        past = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None)
        with first.database.begin() as connection:
            connection.execute(text("UPDATE review_tasks SET due_at = :past"), {"past": past})
        sweeps = [
            InBackground(g.desk.apply_timeouts, name="an SLA sweep")
            for g in (first, second, first, second)
        ]
        assert sum(all_results(sweeps, timeout=60)) == 20
        with first.database.connect() as connection:
            expired = connection.execute(
                text(
                    "SELECT decision_id, count(*) FROM audit_events WHERE kind = 'review_expired'"
                    " GROUP BY decision_id"
                )
            ).all()
        assert len(expired) == 20
        assert all(count == 1 for _, count in expired)
    finally:
        first.close()
        second.close()


class _Receiver(BaseHTTPRequestHandler):
    """An agent's webhook endpoint: fails the first delivery, accepts the rest."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(500 if len(self.received) == 1 else 204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/sluicegate", _Receiver.received
    server.shutdown()
    server.server_close()


def test_a_resolved_review_is_sent_to_the_webhook_signed_and_retried(
    served: Served, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    with served.http("agent") as agent:
        hook = agent.post("/v1/webhooks", json={"url": url}).json()
        assert hook["secret"].startswith("whsec_")
        review_id = served.refund()["review"]["id"]
        with served.http("fiona") as fiona:
            assert fiona.post(f"/v1/reviews/{review_id}/approve", json={}).status_code == 200
        # The receiver sees the second attempt before the sender records its answer: wait
        # for the record, not only for the receipt.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            deliveries = agent.get(f"/v1/webhooks/{hook['id']}/deliveries").json()
            if len(received) >= 2 and deliveries[0]["state"] != "pending":
                break
            time.sleep(0.05)
    assert len(received) == 2  # the first attempt got a 500 and was retried
    headers, body = received[-1]
    verified = Webhook(hook["secret"]).verify(body, headers)  # raises on a bad signature
    assert verified["type"] == "review.resolved"
    assert verified["data"]["state"] == "approved"
    assert received[0][0]["webhook-id"] == headers["webhook-id"]  # receivers deduplicate on it
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(body.replace(b"approved", b"rejected"), headers)
    assert [(d["state"], d["attempts"], d["last_status"]) for d in deliveries] == [
        ("delivered", 2, 204)
    ]


def _approve_soon(served: Served, reviewer: str, *, reject: bool = False) -> InBackground[None]:
    """A reviewer acts on the next open review as soon as one appears (within 10 s)."""

    def work() -> None:
        with served.http(reviewer) as client:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                waiting = client.get("/v1/reviews", params={"state": "pending"}).json()
                if waiting:
                    step, body = ("reject", {"note": "no"}) if reject else ("approve", {})
                    answer = client.post(f"/v1/reviews/{waiting[0]['id']}/{step}", json=body)
                    assert answer.status_code == 200, answer.text
                    return
                time.sleep(0.05)
            raise AssertionError("no review appeared within 10 s")

    return InBackground(work, name=f"{reviewer} acting on the review")


def test_a_gated_tool_with_wait_runs_once_approved_and_never_when_rejected(
    served: Served,
) -> None:
    ran: list[str] = []
    with GateClient(served.base, served.keys["agent"]) as client:

        @gated(client, lambda amount: REFUND, wait=True, wait_seconds=20)
        def refund(amount: int) -> str:
            ran.append("refund")
            return "refunded"

        reviewer = _approve_soon(served, "fiona")
        assert refund(5000) == "refunded"
        reviewer.result(timeout=30)
        reviewer = _approve_soon(served, "fiona", reject=True)
        with pytest.raises(ActionDenied) as refused:
            refund(5000)
        reviewer.result(timeout=30)
    assert ran == ["refund"]
    assert refused.value.how == "rejected"
    assert refused.value.note == "no"
    assert str(refused.value).startswith("rejected (")


def test_the_async_client_waits_too(served: Served) -> None:
    async def ask() -> str:
        async with AsyncGateClient(served.base, served.keys["agent"]) as client:
            decision = await client.decide(REFUND, wait=True, wait_seconds=20)
            return getattr(decision, "status", "?")

    reviewer = _approve_soon(served, "felix")
    assert asyncio.run(ask()) == "approved"
    reviewer.result(timeout=30)


def test_who_may_see_and_work_a_review(served: Served) -> None:
    review_id = served.refund()["review"]["id"]
    with served.http("audrey") as auditor, served.http("cora") as other_queue:
        assert auditor.get(f"/v1/reviews/{review_id}").json()["proposal"]["action"]["type"] == (
            "payments.refund.issue"
        )
        refused = auditor.post(f"/v1/reviews/{review_id}/approve", json={})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
        assert other_queue.get(f"/v1/reviews/{review_id}").status_code == 404
        assert other_queue.get("/v1/reviews").json() == []
        stepped = other_queue.post(f"/v1/reviews/{review_id}/claim")
        assert stepped.json()["error"]["code"] == "not_queue_reviewer"
    with served.http("agent") as agent:
        assert agent.post(f"/v1/reviews/{review_id}/approve", json={}).status_code == 403


def test_an_approval_is_void_once_the_rules_change(served: Served) -> None:
    decision = served.refund()
    with served.http("fiona") as fiona:
        fiona.post(f"/v1/reviews/{decision['review']['id']}/approve", json={})
    engine = database_engine(served.settings.database_url)
    with engine.begin() as connection:  # as if the approval was given under an older pack
        connection.execute(text("UPDATE review_tasks SET policy_revision = 'sha256:older'"))
    engine.dispose()
    with served.http("agent") as agent:
        used = agent.post(f"/v1/decisions/{decision['decision_id']}/proceed", json=REFUND)
    assert (used.status_code, used.json()["error"]["code"]) == (409, "policy_changed")


def test_every_review_step_joins_the_audit_chain(served: Served) -> None:
    decision = served.refund()
    review_id = decision["review"]["id"]
    with served.http("fiona") as fiona:
        fiona.post(f"/v1/reviews/{review_id}/claim")
        fiona.post(f"/v1/reviews/{review_id}/approve", json={"note": "fine"})
    with served.http("agent") as agent:
        agent.post(f"/v1/decisions/{decision['decision_id']}/proceed", json=REFUND)
    engine = database_engine(served.settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT seq, kind, prev_hash, hash, event FROM audit_events "
                "WHERE decision_id IS NOT NULL ORDER BY seq"
            )
        ).all()
    engine.dispose()
    assert [r.kind for r in rows] == [
        "decision",
        "review_claimed",
        "review_approved",
        "approval_used",
    ]
    approved = json.loads(rows[2].event)
    assert approved["actor"]["name"] == "fiona"
    assert approved["details"] == {"approvals": 1, "required": 1, "note": "fine"}


def test_the_agent_withdraws_a_routed_proposal_and_nobody_can_act_on_it(served: Served) -> None:
    decision = served.refund()
    decision_id, review_id = decision["decision_id"], decision["review"]["id"]
    with served.http("cora") as other_queue:  # nobody but the proposing agent
        refused = other_queue.post(f"/v1/decisions/{decision_id}/withdraw")
        assert refused.status_code == 403
    with GateClient(served.base, served.keys["agent"]) as agent:
        status = agent.withdraw(decision_id)
        assert status.status.value == "withdrawn"
        assert status.review is not None
        assert status.review.state == "withdrawn"
        with pytest.raises(ActionDenied) as told:
            raise ActionDenied(agent.get(decision_id))
        assert told.value.how == "withdrawn"
    with served.http("fiona") as fiona:
        late = fiona.post(f"/v1/reviews/{review_id}/approve", json={})
        assert (late.status_code, late.json()["error"]["code"]) == (409, "review_closed")
    with served.http("agent") as agent_http:
        again = agent_http.post(f"/v1/decisions/{decision_id}/withdraw")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "review_closed")
        used = agent_http.post(f"/v1/decisions/{decision_id}/proceed", json=REFUND)
        assert (used.status_code, used.json()["error"]["code"]) == (409, "not_approved")
    engine = database_engine(served.settings.database_url)
    with engine.connect() as connection:
        kinds = connection.execute(
            text("SELECT kind, event FROM audit_events WHERE decision_id = :d ORDER BY seq"),
            {"d": decision_id},
        ).all()
    engine.dispose()
    assert [k.kind for k in kinds] == ["decision", "review_withdrawn"]
    assert json.loads(kinds[1].event)["actor"]["role"] == "agent"
