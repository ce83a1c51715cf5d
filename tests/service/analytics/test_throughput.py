"""Throughput indicators over a small, known history, and the Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.app import create_app
from service.auth.roles import Role
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES, bearer


def _refund(environment: str, work_type: str = "billing-dispute") -> dict[str, Any]:
    return {
        "action": {
            "type": "payments.refund.issue",
            "environment": environment,
            "amount": {"value": 5000, "currency": "USD"},
        },
        "work_item": {"id": "WI-1", "type": work_type},
        "justification": "duplicate charge",
        "confidence": 0.9,
    }


NOTE: dict[str, Any] = {
    "action": {"type": "crm.contact.update", "environment": "sandbox"},
    "changes": [{"record": "contact/3", "field": "title", "to": "CTO", "source": "x"}],
    "confidence": 0.9,
    "work_item": {"id": "WI-2", "type": "crm-hygiene"},
}


@dataclass
class History:
    """A gateway after six decisions with known fates, and the keys to look at them."""

    client: TestClient
    agent: dict[str, str]
    auditor: dict[str, str]


@pytest.fixture
def history(database_url: str) -> Iterator[History]:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        fiona = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
        auditor = bearer(runtime, Role.AUDITOR)

        def decide(body: dict[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = client.post("/v1/decisions", json=body, headers=agent).json()
            return answer

        def report(decision: dict[str, Any], artifact: dict[str, Any]) -> None:
            client.post(
                f"/v1/decisions/{decision['decision_id']}/outcome",
                json={"status": "executed", "artifact": artifact},
                headers=agent,
            )

        note = decide(NOTE)  # allowed, executed and verified
        report(note, {"record_url": "u", "updated_fields": ["title"]})
        decide(NOTE)  # allowed and never reported: stuck
        approved = decide(_refund("production"))
        client.post(f"/v1/reviews/{approved['review']['id']}/approve", json={}, headers=fiona)
        client.post(
            f"/v1/decisions/{approved['decision_id']}/proceed",
            json=_refund("production"),
            headers=agent,
        )
        report(approved, {"refund_id": "re_1", "amount": 5000})
        rejected = decide(_refund("production"))
        client.post(
            f"/v1/reviews/{rejected['review']['id']}/reject", json={"note": "no"}, headers=fiona
        )
        expired = decide(_refund("production", "chargeback"))
        with runtime.database.begin() as connection:
            connection.execute(
                text("UPDATE review_tasks SET due_at = '2000-01-01 00:00:00' WHERE id = :id"),
                {"id": expired["review"]["id"]},
            )
        runtime.desk.apply_timeouts()
        sampled = decide(_refund("sandbox"))  # tier 3 in sandbox: sampled, always picked
        post_hoc = client.get("/v1/reviews", params={"kind": "post_hoc"}, headers=fiona).json()
        client.post(
            f"/v1/reviews/{post_hoc[0]['id']}/verdict",
            json={"verdict": "should_not_have_happened", "note": "not a duplicate"},
            headers=fiona,
        )
        assert post_hoc[0]["decision_id"] == sampled["decision_id"]
        yield History(client, agent, auditor)


def test_throughput_indicators(history: History) -> None:
    client, auditor = history.client, history.auditor
    answer = client.get("/v1/analytics/throughput", params={"stuck_after": "PT0S"}, headers=auditor)
    assert answer.status_code == 200, answer.text
    groups = {g["key"]: g for g in answer.json()["groups"]}
    refunds = groups["payments.refund.issue"]
    assert refunds["decisions"] == 4
    assert refunds["by_outcome"] == {"route_to_human": 3, "sample": 1}
    assert refunds["by_status"] == {
        "verified": 1,
        "rejected": 1,
        "expired": 1,
        "sampled": 1,
    }
    assert refunds["first_pass_approval_rate"] == 0.5
    assert refunds["reject_rate"] == 0.5
    assert refunds["sla_breaches"] == 1
    assert refunds["post_hoc_reviewed"] == 1
    assert refunds["should_not_have_happened_rate"] == 1.0
    assert refunds["cycle_time_p50_seconds"] > 0
    assert refunds["human_wait_p90_seconds"] >= refunds["human_wait_p50_seconds"] > 0
    assert refunds["stuck"] == 1  # the sampled refund: acted on, never reported
    notes = groups["crm.contact.update"]
    assert (notes["by_status"], notes["stuck"]) == ({"verified": 1, "allowed": 1}, 1)
    assert answer.json()["total"]["decisions"] == 6


def test_grouping_by_work_item_type_and_who_may_ask(history: History) -> None:
    client, auditor, agent = history.client, history.auditor, history.agent
    by_work = client.get(
        "/v1/analytics/throughput", params={"group_by": "work_item_type"}, headers=auditor
    ).json()
    assert {g["key"]: g["decisions"] for g in by_work["groups"]} == {
        "billing-dispute": 3,
        "chargeback": 1,
        "crm-hygiene": 2,
    }
    assert client.get("/v1/analytics/throughput", headers=agent).status_code == 403


def test_prometheus_metrics(history: History) -> None:
    client = history.client
    metrics = client.get("/metrics").text
    assert 'sluicegate_decisions_total{outcome="route_to_human"} 3.0' in metrics
    assert 'sluicegate_decisions_total{outcome="allow"} 2.0' in metrics
    assert "sluicegate_decision_seconds_bucket" in metrics
    assert 'sluicegate_review_queue_depth{queue="finance-approvers"}' not in metrics
    client.post("/v1/decisions", json=_refund("production"), headers=history.agent)
    metrics = client.get("/metrics").text
    assert 'sluicegate_review_queue_depth{queue="finance-approvers"} 1.0' in metrics
    assert 'sluicegate_review_oldest_pending_seconds{queue="finance-approvers"}' in metrics
