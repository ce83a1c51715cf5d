"""A reviewer's day on the API and the domain: alike reviews approved together, each under
every desk rule and recorded as its own approval; a queue's list to triage, sorted and
filtered; a packet's context (the work item so far, what it revises, the agent's recent
actions of the same type). The keyboard and the pages: tests/service/ui."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.audit.tables import AUDIT_EVENTS
from service.auth.keys import create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.decisions.history import packet_context
from service.reviews.triage import TriageQuery
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES


def _refund(value: float, work_item: str = "WI-1", **more: Any) -> dict[str, Any]:
    return {
        "action": {"type": "payments.refund.issue", "target": "stripe", "environment": "production",
                   "amount": {"value": value, "currency": "USD"}},
        "changes": [{"record": "charge/1", "field": "status", "to": "refunded"}],
        "justification": f"refund of {value}\nsecond line",
        "work_item": {"id": work_item, "type": "dispute"}, "confidence": 0.9, **more,
    }  # fmt: skip


@dataclass
class Desk:
    client: TestClient
    runtime: Runtime
    agents: dict[str, dict[str, str]]
    reviewer: dict[str, str]

    def routed(self, agent: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.client.post("/v1/decisions", json=body, headers=self.agents[agent])
        assert answer.status_code == 201, answer.text
        decided: dict[str, Any] = answer.json()
        assert decided["outcome"] == "route_to_human", decided
        return decided

    def approve_many(self, review_ids: list[str], note: str | None = None) -> Any:
        body: dict[str, Any] = {"review_ids": review_ids} | ({"note": note} if note else {})
        return self.client.post("/v1/reviews:approve", json=body, headers=self.reviewer)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    settings = Settings(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY)
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        database = runtime.database
        _, fiona = create_key(
            database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        create_key(database, name="olga", role=Role.REVIEWER, scopes=[])
        agents = {}
        for name, owner in (("billing-bot", "olga"), ("fiona-bot", "fiona")):
            owner_id = principal_named(database, owner)
            _, key = create_key(
                database, name=name, role=Role.AGENT, scopes=["*"], owner_id=owner_id
            )
            agents[name] = {"Authorization": f"Bearer {key}"}
        yield Desk(client, runtime, agents, {"Authorization": f"Bearer {fiona}"})


def _approvals(desk: Desk) -> int:
    with desk.runtime.database.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(AUDIT_EVENTS.c.kind == "review_approved")
            ).scalar_one()
        )


def test_five_alike_reviews_approved_together_one_refused_by_four_eyes(desk: Desk) -> None:
    mine = [desk.routed("billing-bot", _refund(2000 + i))["review"]["id"] for i in range(4)]
    owned = desk.routed("fiona-bot", _refund(2500))["review"]["id"]  # fiona owns this agent
    answer = desk.approve_many([*mine[:2], owned, *mine[2:]], note="routine duplicates")
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["ok"] for r in results] == [True, True, False, True, True]
    assert results[2]["review_id"] == owned
    assert results[2]["error"]["code"] == "four_eyes"
    assert _approvals(desk) == 4  # each its own approval, on the chain
    for review_id in mine:
        read = desk.client.get(f"/v1/reviews/{review_id}", headers=desk.reviewer).json()
        assert read["state"] == "approved"
        assert read["approvals"][0]["note"] == "routine duplicates"
    again = desk.approve_many(mine[:1])
    assert again.json()["results"][0]["error"]["code"] == "review_closed"  # single use


def test_reviews_of_another_type_or_queue_are_refused_before_anything_changes(
    desk: Desk,
) -> None:
    refund = desk.routed("billing-bot", _refund(2000))["review"]["id"]
    credit = desk.routed(
        "billing-bot",
        {
            "action": {
                "type": "billing.invoice.adjust",
                "environment": "production",
                "amount": {"value": 9000, "currency": "USD"},
            },
            "justification": "credit",
            "confidence": 0.9,
        },
    )["review"]["id"]
    answer = desk.approve_many([refund, credit])
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "reviews_not_alike"
    assert _approvals(desk) == 0
    too_many = desk.approve_many([f"r{i}" for i in range(101)])
    assert too_many.status_code == 422


def test_the_list_triages_sorted_and_filtered(desk: Desk) -> None:
    small = desk.routed("billing-bot", _refund(1500, "WI-7"))
    large = desk.routed("fiona-bot", _refund(9000, "WI-8"))
    middle = desk.routed("billing-bot", _refund(4000, "WI-9"))
    fiona = desk.runtime.authenticator.authenticate(desk.reviewer["Authorization"][7:])
    assert fiona is not None
    board = desk.runtime.board

    def ids(**query: Any) -> list[str]:
        rows = board.triage(fiona, "finance-approvers", TriageQuery(**query))
        return [row.review.decision_id for row in rows]

    decisions = [small["decision_id"], large["decision_id"], middle["decision_id"]]
    assert ids() == decisions  # soonest due first: in the order they came
    assert ids(sort="amount") == [decisions[1], decisions[2], decisions[0]]
    assert ids(sort="age") == decisions
    assert ids(agent="fiona-bot") == [decisions[1]]
    assert ids(min_amount=2000, max_amount=5000) == [decisions[2]]
    assert ids(action_type="billing.invoice.adjust") == []
    (row,) = board.triage(fiona, "finance-approvers", TriageQuery(agent="fiona-bot"))
    assert (row.agent, row.owner, row.amount, row.currency) == ("fiona-bot", "fiona", 9000, "USD")
    assert (row.target, row.work_item) == ("stripe", "WI-8")
    assert row.justification == "refund of 9000"  # the first line
    assert row.routed_by is not None
    assert not row.overdue
    assert row.due_in > timedelta(0)


def test_a_packet_shows_its_context(desk: Desk) -> None:
    first = desk.routed("billing-bot", _refund(2000, "WI-5"))
    rejected = desk.client.post(
        f"/v1/reviews/{first['review']['id']}/reject",
        json={"note": "wrong charge", "cause": "missing_context"},
        headers=desk.reviewer,
    )
    assert rejected.status_code == 200, rejected.text
    desk.routed("billing-bot", _refund(3000, "WI-6"))  # another work item, same type
    revision = desk.routed("billing-bot", _refund(2000, "WI-5", revises=first["decision_id"]))
    packet = desk.runtime.board.packet_of(revision["review"]["id"])
    assert packet is not None
    context = packet_context(desk.runtime.database, packet)
    assert (context.agent, context.owner, context.work_item) == ("billing-bot", "olga", "WI-5")
    (earlier,) = context.earlier
    assert (earlier.decision_id, earlier.status.value) == (first["decision_id"], "rejected")
    assert (earlier.cause, earlier.note) == ("missing_context", "wrong charge")
    assert context.revises is not None
    assert context.revises.decision_id == first["decision_id"]
    assert [d.amount for d in context.recent] == [3000, 2000]  # newest first
