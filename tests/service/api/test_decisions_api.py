"""The decisions API through the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from service.audit.event import chain_hash
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import REFUND, bearer
from tests.store_access import allow_audit_writes, refuse_audit_writes, store

DRAFT = {"action": {"type": "email.customer.draft", "environment": "sandbox"}}


def _count(db: Connection, query: str) -> int:
    return int(db.execute(text(query)).scalar_one())


def test_refund_over_the_limit_goes_to_finance(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    response = client.post("/v1/decisions", json=REFUND, headers=agent_headers)
    assert response.status_code == 201
    decision = response.json()
    assert decision["outcome"] == "route_to_human"
    assert decision["risk_tier"] == 3
    assert decision["review"]["queue"] == "finance-approvers"
    assert decision["review"]["on_timeout"] == "deny"
    assert decision["policy"]["engine"] == "rego-embedded"


def test_every_answer_has_its_committed_audit_record(
    client: TestClient, agent_headers: dict[str, str], settings: Settings
) -> None:
    answers = [
        client.post("/v1/decisions", json=body, headers=agent_headers).json()
        for body in (REFUND, DRAFT, REFUND)
    ]
    with store(settings.database_url) as db:  # a separate connection sees only what was committed
        rows = db.execute(
            text(
                "SELECT seq, decision_id, prev_hash, hash, event, kind FROM audit_events "
                "ORDER BY seq"
            )
        ).all()
        stored = _count(db, "SELECT count(*) FROM decisions")
    assert stored == 3
    decisions = [r for r in rows if r[5] == "decision"]  # the chain also records key creation
    assert [(r[0], r[1], r[3]) for r in decisions] == [
        (a["audit"]["seq"], a["decision_id"], a["audit"]["hash"]) for a in answers
    ]
    for previous, row in itertools.pairwise(rows):
        assert row[2] == previous[3]
    for row in rows:
        assert chain_hash(row[2], row[4].encode()) == row[3]
    for row in decisions:
        assert json.loads(row[4])["agent"]["name"].startswith("test-agent")


def test_no_decision_without_its_record(
    client: TestClient, agent_headers: dict[str, str], settings: Settings
) -> None:
    refuse_audit_writes(settings.database_url)
    response = client.post("/v1/decisions", json=DRAFT, headers=agent_headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_unavailable"
    assert "decision_id" not in response.text
    with store(
        settings.database_url
    ) as db:  # the decision row of the failed batch was rolled back too
        assert _count(db, "SELECT count(*) FROM decisions") == 0
        assert _count(db, "SELECT count(*) FROM audit_events WHERE kind = 'decision'") == 0
    allow_audit_writes(settings.database_url)
    assert client.post("/v1/decisions", json=DRAFT, headers=agent_headers).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"action": {"type": ', 400, "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, 413, "body_too_large"),
        (
            b'{"action": {"type": "crm.lookup", "environment": "production"}, "labels": {"a": '
            + b"[" * 5000
            + b"]" * 5000
            + b"}}",
            400,
            "too_deeply_nested",
        ),
        (b'{"action": {"type": "crm.lookup", "environment": "moon"}}', 422, "validation_failed"),
        (
            b'{"action": {"type": "crm.lookup", "environment": "sandbox"}, "extra": 1}',
            422,
            "validation_failed",
        ),
        (
            json.dumps(
                {
                    "action": {"type": "ticket.update", "environment": "sandbox"},
                    "changes": [{"record": "t", "field": "f", "to": 1}] * 201,
                }
            ).encode(),
            422,
            "validation_failed",
        ),
        (b'"just a string"', 422, "validation_failed"),
    ],
    ids=[
        "truncated",
        "oversized",
        "deeply-nested",
        "bad-enum",
        "unknown-field",
        "too-many-changes",
        "not-an-object",
    ],
)
def test_bad_bodies_get_a_stable_4xx(
    client: TestClient,
    agent_headers: dict[str, str],
    settings: Settings,
    body: bytes,
    status: int,
    code: str,
) -> None:
    response = client.post("/v1/decisions", content=body, headers=agent_headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    with store(settings.database_url) as db:
        assert _count(db, "SELECT count(*) FROM audit_events WHERE kind = 'decision'") == 0


def test_a_422_names_each_failing_field(client: TestClient, agent_headers: dict[str, str]) -> None:
    body = {
        "action": {"type": "crm.lookup", "environment": "moon"},
        "changes": [{"record": "t", "field": "f"}, {"record": "t"}],
        "labels": {"a/b~": 1},
    }
    error = client.post("/v1/decisions", json=body, headers=agent_headers).json()["error"]
    assert error["code"] == "validation_failed"
    pointers = {d["pointer"]: d for d in error["details"]}
    assert set(pointers) == {"/action/environment", "/changes/1/field", "/labels/a~1b~0"}
    assert all(d["in"] == "body" for d in error["details"])
    assert (
        "/action/environment: Input should be 'sandbox', 'staging' or 'production'"
        in (error["message"])
    )
    assert "/changes/1/field: Field required" in error["message"]


def test_a_bad_query_parameter_is_named_too(client: TestClient, runtime: Runtime) -> None:
    reviewer = bearer(runtime, Role.REVIEWER)
    error = client.get("/v1/reviews?limit=many", headers=reviewer).json()["error"]
    assert error["code"] == "validation_failed"
    assert [(d["in"], d["pointer"]) for d in error["details"]] == [("query", "/limit")]
    assert "query /limit:" in error["message"]


def test_authentication_and_roles(client: TestClient, runtime: Runtime) -> None:
    assert client.post("/v1/decisions", json=DRAFT).json()["error"]["code"] == "unauthenticated"
    wrong = {"Authorization": "Bearer sg_000000000000_nope"}
    assert client.post("/v1/decisions", json=DRAFT, headers=wrong).status_code == 401
    reviewer = bearer(runtime, Role.REVIEWER)
    response = client.post("/v1/decisions", json=DRAFT, headers=reviewer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_the_scope_comes_from_the_key(client: TestClient, runtime: Runtime) -> None:
    crm_only = bearer(runtime, Role.AGENT, ["crm.*"])
    decision = client.post("/v1/decisions", json=REFUND, headers=crm_only).json()
    assert decision["outcome"] == "deny"
    assert decision["fail_closed"]["cause"] == "agent_out_of_scope"


def test_idempotency(client: TestClient, agent_headers: dict[str, str]) -> None:
    body = {**DRAFT, "idempotency_key": "draft-1"}
    first = client.post("/v1/decisions", json=body, headers=agent_headers)
    again = client.post("/v1/decisions", json=body, headers=agent_headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = client.post(
        "/v1/decisions", json={**REFUND, "idempotency_key": "draft-1"}, headers=agent_headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"


def test_reading_decisions(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    made = client.post("/v1/decisions", json=DRAFT, headers=agent_headers).json()
    path = f"/v1/decisions/{made['decision_id']}"
    # The answer as recorded, plus the action's status now; never the permit, which only
    # the agent's own answer (and its replays) carries.
    assert made["permit"]
    read = client.get(path, headers=agent_headers).json()
    assert read == made | {"status": "allowed", "permit": None}
    assert client.get(path, headers=bearer(runtime, Role.AUDITOR)).json()["audit"] == made["audit"]
    stranger = bearer(runtime, Role.AGENT, ["*"])
    assert client.get(path, headers=stranger).status_code == 404
    assert client.get("/v1/decisions/nope", headers=agent_headers).json()["error"]["code"] == (
        "not_found"
    )


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["revision"].startswith("sha256:")
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/decisions"]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"]["action"]["type"] == "payments.refund.issue"


def test_a_client_that_hangs_up_mid_body_is_no_server_error(
    client: TestClient, agent_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/decisions",
        "raw_path": b"/v1/decisions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", agent_headers["Authorization"].encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 400
    assert "unexpected error" not in caplog.text
