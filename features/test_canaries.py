"""Runs features/canaries.feature: a gateway whose pack seeds a canary into finance-approvers
every 3 real reviews (the seeder driven by hand), an agent with a webhook, a reviewer and an
auditor over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from service.webhooks.destinations import Destinations
from tests.fixtures import AUDIT_KEY, REFUND, RegoBackend, copy_of_pack

scenarios("canaries.feature")
CANARY_REFUND = {
    "action": {"type": "payments.refund.issue", "target": "stripe", "environment": "production",
               "amount": {"value": 4200, "currency": "USD"}},
    "changes": [{"record": "charge/ch_9", "field": "destination", "to": "acct_OTHER_77"}],
    "justification": "Refund of a duplicate charge.", "confidence": 0.9,
    "work_item": {"id": "WI-4410", "type": "billing-dispute"},
}  # fmt: skip


@pytest.fixture
def rego_backend() -> RegoBackend:
    return RegoBackend("rego-embedded")  # seeding is the store's, not Rego's


@dataclass
class Checked:
    client: TestClient
    runtime: Runtime
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    real: list[dict[str, Any]] = field(default_factory=list)
    webhook: str = ""
    canary_review: dict[str, Any] = field(default_factory=dict)

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.keys[who])


@pytest.fixture
def checked(database_url: str, tmp_path: Path) -> Iterator[Checked]:
    pack = copy_of_pack(tmp_path / "rules")
    canaries = {
        "settings": {"reveal_after_verdict": False},
        "queues": {"finance-approvers": {"every": 3, "max_per_reviewer_per_day": 5}},
        "canaries": [
            {
                "id": "refund-to-unknown-account",
                "queue": "finance-approvers",
                "agent": "billing-bot",
                "expect": "reject",
                "why": "the refund goes to an account that is not the customer's",
                "proposal": CANARY_REFUND,
            }
        ],
    }
    (pack / "data" / "canaries.yaml").write_text(yaml.safe_dump(canaries))
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=pack,
        canary_tick_seconds=3600,  # driven by hand
        webhook_tick_seconds=60,
    )
    with TestClient(create_app(settings)) as client:
        yield Checked(client, client.app.state.runtime)  # type: ignore[attr-defined]


@given(
    "a pack with a canary for finance-approvers, one per 3 real reviews, whose right answer "
    "is reject"
)
def canary_pack(checked: Checked) -> None:
    assert checked.runtime.pack.data.canaries.of("refund-to-unknown-account") is not None


@given("a billing agent with a webhook for all its decisions, and a finance reviewer")
def agent_and_reviewer(checked: Checked) -> None:
    database = checked.runtime.database
    for who, role, scopes in (
        ("billing-bot", Role.AGENT, ["*"]),
        ("fiona", Role.REVIEWER, ["group:finance-approvers"]),
        ("audrey", Role.AUDITOR, []),
    ):
        _, key = create_key(database, name=who, role=role, scopes=scopes)
        checked.keys[who] = {"Authorization": f"Bearer {key}"}
    checked.runtime.destinations = _any_destination()
    hook = checked.client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example/agent"},
        headers=checked.keys["billing-bot"],
    )
    assert hook.status_code == 201, hook.text
    checked.webhook = hook.json()["id"]


def _any_destination() -> Destinations:
    return Destinations(resolver=lambda host, port: ["93.184.216.34"])


@when(parsers.parse("the agent's {count:d} refunds wait in finance-approvers"))
def refunds_wait(checked: Checked, count: int) -> None:
    for index in range(count):
        body = REFUND | {"work_item": {"id": f"WI-{index}", "type": "billing-dispute"}}
        answer = checked.client.post(
            "/v1/decisions", json=body, headers=checked.keys["billing-bot"]
        )
        assert answer.json()["review"]["queue"] == "finance-approvers", answer.text
        checked.real.append(answer.json())
    assert checked.runtime.canaries.seed_due() == 1
    assert checked.runtime.canaries.seed_due() == 0  # the next is due after 3 more


@then("a 4th review waits there, and nothing a reviewer reads tells it from the real ones")
def canary_is_like_the_rest(checked: Checked) -> None:
    listed = checked.get("fiona", "/v1/reviews", queue="finance-approvers").json()
    assert len(listed) == 4
    real_ids = {decision["review"]["id"] for decision in checked.real}
    (canary,) = [review for review in listed if review["id"] not in real_ids]
    real = next(review for review in listed if review["id"] in real_ids)
    assert canary.keys() == real.keys()  # the same fields
    assert canary["agent_id"] == real["agent_id"]  # the agent the authors named
    packet = checked.get("fiona", f"/v1/reviews/{canary['id']}").json()
    real_packet = checked.get("fiona", f"/v1/reviews/{real['id']}").json()
    assert packet.keys() == real_packet.keys()
    assert packet["decision"].keys() == real_packet["decision"].keys()
    assert len(packet["id"]) == len(real_packet["id"])  # ids of one shape
    seen = (
        json.dumps([canary, packet])
        + checked.client.get("/v1/reviews/queues", headers=checked.keys["fiona"]).text
    )
    assert "canary" not in seen.lower()
    assert "refund-to-unknown-account" not in seen
    checked.canary_review = packet


@when("the reviewer approves every review in the queue")
def approve_all(checked: Checked) -> None:
    for review in checked.get("fiona", "/v1/reviews", queue="finance-approvers").json():
        answer = checked.client.post(
            f"/v1/reviews/{review['id']}/approve", json={}, headers=checked.keys["fiona"]
        )
        assert answer.status_code == 200, answer.text
        assert "canary" not in answer.text.lower()


@then(
    parsers.parse(
        "the check counts against the reviewer: {answered:d} answered, {right:d} right, "
        "{stamped:d} approved that should have been rejected"
    )
)
def counted(checked: Checked, answered: int, right: int, stamped: int) -> None:
    report = checked.get("audrey", "/v1/analytics/canaries").json()
    (fiona,) = report["reviewers"]
    assert (fiona["reviewer"], fiona["queue"]) == ("fiona", "finance-approvers")
    assert (fiona["answered"], fiona["correct"]) == (answered, right)
    assert fiona["approved_should_reject"] == stamped
    assert checked.get("fiona", "/v1/analytics/canaries").status_code == 403  # not reviewers'
    throughput = checked.get("audrey", "/v1/analytics/throughput").json()
    assert throughput["total"]["decisions"] == 3  # real work only


@then("the answer is on the audit chain, which auditors read")
def on_the_chain(checked: Checked) -> None:
    (seeded,) = checked.get("audrey", "/v1/audit/events", kind="canary").json()["events"]
    assert seeded["event"]["canary"]["expect"] == "reject"
    (answer,) = checked.get("audrey", "/v1/audit/events", kind="canary_answered").json()["events"]
    assert answer["event"]["canary"] | {"seconds": 0} == {
        "id": "refund-to-unknown-account",
        "expect": "reject",
        "answered": "approved",
        "correct": False,
        "seconds": 0,
    }
    assert checked.get("fiona", "/v1/audit/events").status_code == 403


@then("the agent sees nothing of the check: no decision, no webhook, no way to proceed")
def invisible_to_the_agent(checked: Checked) -> None:
    decision_id = checked.canary_review["decision_id"]
    agent = checked.keys["billing-bot"]
    assert checked.client.get(f"/v1/decisions/{decision_id}", headers=agent).status_code == 404
    proceeded = checked.client.post(
        f"/v1/decisions/{decision_id}/proceed", json=CANARY_REFUND, headers=agent
    )
    assert proceeded.status_code == 404
    deliveries = checked.client.get(f"/v1/webhooks/{checked.webhook}/deliveries", headers=agent)
    assert len(deliveries.json()) == len(checked.real)  # one per real review, none for it
