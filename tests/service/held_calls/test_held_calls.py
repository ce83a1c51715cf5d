"""Held calls through the real app, on SQLite and on PostgreSQL: held for a routed decision
of the agent's own, forwarded by one replica at a time, completed or cancelled once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from service.auth.roles import Role
from service.held_calls.identity import CALL_DIGEST_HEADER, call_digest
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import REFUND, bearer
from tests.store_access import store

RESULT = {"content": [{"type": "text", "text": "refunded"}], "isError": False}


def _held(client: TestClient, agent: dict[str, str]) -> dict[str, Any]:
    decision = client.post("/v1/decisions", json=REFUND, headers=agent).json()
    assert decision["outcome"] == "route_to_human"
    body = {
        "decision_id": decision["decision_id"],
        "upstream": "payments",
        "tool": "refund",
        "arguments": {"amount": 5000},
        "proposal": REFUND,
    }
    held = client.post("/v1/held-calls", json=body, headers=agent)
    assert held.status_code == 201, held.text
    again = client.post("/v1/held-calls", json=body, headers=agent)
    assert (again.status_code, again.json()["id"]) == (200, held.json()["id"])
    found: dict[str, Any] = held.json()
    return found


def _approve(client: TestClient, runtime: Runtime, review_id: str) -> None:
    reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
    done = client.post(f"/v1/reviews/{review_id}/approve", json={}, headers=reviewer)
    assert done.status_code == 200, done.text


def test_a_call_is_forwarded_by_one_replica_and_completed_once(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    held = _held(client, agent_headers)
    assert (held["state"], held["status"]["status"]) == ("held", "pending_review")
    call = f"/v1/held-calls/{held['id']}"
    _approve(client, runtime, held["status"]["review"]["id"])
    assert client.get(call, headers=agent_headers).json()["status"]["status"] == "approved"

    first = client.post(f"{call}/forwarding", headers=agent_headers)
    assert (first.status_code, first.json()["state"]) == (200, "forwarding")
    second = client.post(f"{call}/forwarding", headers=agent_headers)  # another replica
    assert (second.status_code, second.json()["error"]["code"]) == (409, "held_call_busy")

    done = client.post(f"{call}/result", json={"result": RESULT}, headers=agent_headers)
    assert (done.json()["state"], done.json()["result"]) == ("completed", RESULT)
    late = client.post(f"{call}/result", json={"result": RESULT}, headers=agent_headers)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "held_call_closed")
    assert client.post(f"{call}/cancel", headers=agent_headers).status_code == 409


def test_a_lapsed_lease_lets_another_replica_try(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str], settings: Settings
) -> None:
    held = _held(client, agent_headers)
    call = f"/v1/held-calls/{held['id']}"
    assert client.post(f"{call}/forwarding", headers=agent_headers).status_code == 200
    with store(settings.database_url) as db:  # the forwarding replica died a while ago
        db.execute(text("UPDATE held_calls SET forwarding_until = '2000-01-01 00:00:00'"))
    assert client.post(f"{call}/forwarding", headers=agent_headers).status_code == 200


def test_cancelling_withdraws_the_review_and_only_the_agent_sees_its_calls(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    held = _held(client, agent_headers)
    call = f"/v1/held-calls/{held['id']}"
    other = bearer(runtime, Role.AGENT, ["*"])
    assert client.get(call, headers=other).status_code == 404
    assert client.post(f"{call}/cancel", headers=other).status_code == 404
    reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
    assert client.get(call, headers=reviewer).status_code == 403

    cancelled = client.post(f"{call}/cancel", headers=agent_headers).json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["status"]["status"] == "withdrawn"
    assert client.post(f"{call}/forwarding", headers=agent_headers).status_code == 409


def test_only_a_routed_decision_of_ones_own_is_held(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    allowed = client.post(
        "/v1/decisions",
        json={"action": {"type": "email.customer.draft", "environment": "sandbox"}},
        headers=agent_headers,
    ).json()
    routed = client.post("/v1/decisions", json=REFUND, headers=agent_headers).json()
    other = bearer(runtime, Role.AGENT, ["*"])
    for decision_id, who in (
        (allowed["decision_id"], agent_headers),
        (routed["decision_id"], other),
    ):
        body = {
            "decision_id": decision_id,
            "upstream": "u",
            "tool": "t",
            "arguments": {},
            "proposal": REFUND,
        }
        refused = client.post("/v1/held-calls", json=body, headers=who)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")


def test_a_call_made_again_finds_the_held_one_by_its_digest(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    held = _held(client, agent_headers)
    same = call_digest("payments", "refund", {"amount": 5000})
    found = client.get("/v1/held-calls", params={"call_digest": same}, headers=agent_headers)
    assert [c["id"] for c in found.json()] == [held["id"]]
    other = bearer(runtime, Role.AGENT, ["*"])
    assert client.get("/v1/held-calls", params={"call_digest": same}, headers=other).json() == []
    changed = call_digest("payments", "refund", {"amount": 5001})
    assert (
        client.get("/v1/held-calls", params={"call_digest": changed}, headers=agent_headers).json()
        == []
    )


def test_the_proxy_learns_in_one_round_trip_that_a_call_is_already_held(
    client: TestClient, agent_headers: dict[str, str], settings: Settings
) -> None:
    held = _held(client, agent_headers)
    same = {CALL_DIGEST_HEADER: call_digest("payments", "refund", {"amount": 5000})}
    with store(settings.database_url) as db:
        before = db.execute(text("SELECT count(*) FROM decisions")).scalar_one()
    again = client.post("/v1/decisions", json=REFUND, headers=agent_headers | same)
    assert again.status_code == 409
    error = again.json()["error"]
    assert (error["code"], error["details"]) == (
        "call_already_held",
        [{"held_call_id": held["id"]}],
    )
    with store(settings.database_url) as db:
        assert db.execute(text("SELECT count(*) FROM decisions")).scalar_one() == before
    other = {CALL_DIGEST_HEADER: call_digest("payments", "refund", {"amount": 1})}
    assert (
        client.post("/v1/decisions", json=REFUND, headers=agent_headers | other).status_code == 201
    )
