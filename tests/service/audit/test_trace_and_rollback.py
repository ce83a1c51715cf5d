"""A work item's trace (waiting versus the rest), and rollback candidates by rule or revision."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from service.auth.roles import Role
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, REFUND, RULES, bearer

WORK_ITEM = {"id": "WI-300", "type": "billing-dispute"}
STRIPE_REFUND: dict[str, Any] = {
    **REFUND,
    "action": {**REFUND["action"], "target": "stripe"},
    "work_item": WORK_ITEM,
}
NOTE: dict[str, Any] = {
    "action": {"type": "crm.contact.update", "environment": "sandbox", "target": "salesforce"},
    "changes": [
        {"record": "contact/3", "field": "title", "from": "VP", "to": "CTO", "source": "x"}
    ],
    "confidence": 0.9,
    "work_item": WORK_ITEM,
}


def test_a_work_items_trace_and_what_would_be_rolled_back(database_url: str) -> None:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
        auditor = bearer(runtime, Role.AUDITOR)
        note = client.post("/v1/decisions", json=NOTE, headers=agent).json()
        client.post(
            f"/v1/decisions/{note['decision_id']}/outcome",
            json={
                "status": "executed",
                "artifact": {"record_url": "u", "updated_fields": ["title"]},
            },
            headers=agent,
        )
        refund = client.post("/v1/decisions", json=STRIPE_REFUND, headers=agent).json()
        client.post(f"/v1/reviews/{refund['review']['id']}/approve", json={}, headers=reviewer)
        client.post(
            f"/v1/decisions/{refund['decision_id']}/proceed", json=STRIPE_REFUND, headers=agent
        )
        client.post(
            f"/v1/decisions/{refund['decision_id']}/outcome",
            json={"status": "executed", "artifact": {"refund_id": "re_1", "amount": 5000}},
            headers=agent,
        )
        client.post("/v1/decisions", json=NOTE | {"work_item": {"id": "WI-other"}}, headers=agent)

        traced = client.get("/v1/work-items/WI-300/trace", headers=auditor).json()
        assert [e["kind"] for e in traced["events"]] == [
            "decision",
            "outcome_reported",
            "decision",
            "review_approved",
            "approval_used",
            "outcome_reported",
        ]
        waits = {a["action_type"]: a["waited_on_humans_seconds"] for a in traced["actions"]}
        assert waits["crm.contact.update"] == 0
        assert waits["payments.refund.issue"] > 0
        assert traced["span_seconds"] >= traced["waited_on_humans_seconds"]
        assert client.get("/v1/work-items/WI-none/trace", headers=auditor).status_code == 404
        assert client.get("/v1/work-items/WI-300/trace", headers=agent).status_code == 403

        by_rule = client.get(
            "/v1/audit/rollback-candidates",
            params={"rule": "money.irreversible_over_limit"},
            headers=auditor,
        ).json()
        assert [
            (c["action_type"], c["status"], c["reversibility"], c["target"]) for c in by_rule
        ] == [("payments.refund.issue", "verified", "irreversible", "stripe")]
        revision = refund["policy"]["revision"]
        everything = client.get(
            "/v1/audit/rollback-candidates", params={"policy_revision": revision}, headers=auditor
        ).json()
        assert [c["action_type"] for c in everything] == [
            "crm.contact.update",
            "payments.refund.issue",
        ]  # the third decision was never reported executed
        assert everything[0]["changes"][0]["to"] == "CTO"
