"""One time box for every review: the action type's own `sla`, else its queue's."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from policy.rule_pack import RulePack
from service.auth.roles import Role
from service.runtime import Runtime
from tests.fixtures import bearer


def test_the_action_types_sla_wins_over_its_queues(pack: RulePack) -> None:
    assert pack.data.queues["support-leads"].sla == timedelta(hours=4)
    assert pack.data.time_box("support-leads", "ticket.reply.public") == timedelta(hours=1)
    assert pack.data.time_box("support-leads", "payments.teleport") == timedelta(hours=4)
    assert pack.data.time_box("support-leads") == timedelta(hours=4)


def test_a_post_hoc_review_of_a_public_reply_is_due_an_hour_after_its_decision(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    reply = {
        "action": {"type": "ticket.reply.public", "environment": "sandbox"},
        "justification": "answers the customer's question from the runbook",
    }
    decision = client.post("/v1/decisions", json=reply, headers=agent_headers).json()
    assert decision["outcome"] == "sample"
    assert decision["sample"]["selected"] is True
    lead = bearer(runtime, Role.REVIEWER, ["group:support-leads"])
    (review,) = client.get("/v1/reviews", params={"kind": "post_hoc"}, headers=lead).json()
    assert review["decision_id"] == decision["decision_id"]
    assert review["queue"] == "support-leads"
    due = datetime.fromisoformat(review["due_at"])
    decided = datetime.fromisoformat(decision["decided_at"])
    assert timedelta(hours=1) <= due - decided < timedelta(hours=1, seconds=1)  # not 4h
