"""Permits from the gate, checked as a target system checks them: with only the JWKS."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sluicegate_permit import MemoryReplayCache, PermitError, verify
from sluicegate_permit import action_digest as verifier_digest
from typer.testing import CliRunner

from policy.proposal import Proposal
from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.cli.main import app as cli
from service.permits.signer import PermitSigner, action_digest, rotate_key
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, bearer
from tests.store_access import every_row

DRAFT: dict[str, Any] = {
    "action": {"type": "email.customer.draft", "environment": "sandbox", "target": "mailer"},
    "changes": [{"record": "draft/1", "field": "body", "to": "Your refund is on its way."}],
}
OTHER_ACTION = DRAFT["action"] | {"environment": "production"}
OTHER_CHANGES = [{"record": "draft/2", "field": "body", "to": "Your refund is on its way."}]


def _allowed(client: TestClient, agent: dict[str, str]) -> dict[str, Any]:
    answer = client.post("/v1/decisions", json=DRAFT, headers=agent).json()
    assert answer["outcome"] in {"allow", "sample"}, answer
    assert answer["permit"]
    return dict(answer)


def _check(permit: str, published: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "action": DRAFT["action"],
        "changes": DRAFT["changes"],
        "audience": "mailer",
        "jwks": published,
        "replay": MemoryReplayCache(),
    }
    return verify(permit, **(arguments | overrides))


def _claims(permit: str) -> dict[str, Any]:
    payload = permit.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_a_permit_verifies_with_only_the_jwks(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    decided = _allowed(client, agent_headers)
    jwks = client.get("/.well-known/jwks.json").json()
    claims = _check(decided["permit"], jwks)
    assert claims["jti"] == decided["decision_id"]
    assert claims["act"] == "email.customer.draft"
    assert claims["aud"] == "mailer"
    assert claims["rev"] == decided["policy"]["revision"]
    assert claims["exp"] - claims["iat"] == runtime.settings.permit_ttl_seconds
    header = json.loads(base64.urlsafe_b64decode(decided["permit"].split(".")[0] + "=="))
    assert header["alg"] == "EdDSA"
    assert header["kid"] == jwks["keys"][0]["kid"]
    # The answer carries the permit; the audit log does not (it is a bearer credential).
    assert decided["permit"] not in json.dumps(_decision_events(client, runtime))


def _decision_events(client: TestClient, runtime: Runtime) -> list[Any]:
    auditor = bearer(runtime, Role.AUDITOR)
    events: list[Any] = client.get(
        "/v1/audit/events", params={"kind": "decision"}, headers=auditor
    ).json()["events"]
    return events


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"action": OTHER_ACTION}, "action_mismatch"),
        ({"changes": OTHER_CHANGES}, "action_mismatch"),
        ({"audience": "bank"}, "wrong_audience"),
        ({"jwks": {"keys": []}}, "unknown_key"),
    ],
)  # fmt: skip
def test_a_permit_for_something_else_is_refused(
    client: TestClient, agent_headers: dict[str, str], overrides: dict[str, Any], reason: str
) -> None:
    permit = _allowed(client, agent_headers)["permit"]
    jwks = client.get("/.well-known/jwks.json").json()
    with pytest.raises(PermitError) as refused:
        _check(permit, jwks, **overrides)
    assert refused.value.reason == reason


def test_a_tampered_permit_is_refused(client: TestClient, agent_headers: dict[str, str]) -> None:
    permit = _allowed(client, agent_headers)["permit"]
    head, _, signature = permit.split(".")
    claims = _claims(permit) | {"aud": "bank"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    jwks = client.get("/.well-known/jwks.json").json()
    with pytest.raises(PermitError) as refused:
        _check(f"{head}.{forged}.{signature}", jwks, audience="bank")
    assert refused.value.reason == "bad_signature"


def test_a_permit_is_used_once(client: TestClient, agent_headers: dict[str, str]) -> None:
    permit = _allowed(client, agent_headers)["permit"]
    jwks = client.get("/.well-known/jwks.json").json()
    replay = MemoryReplayCache()
    _check(permit, jwks, replay=replay)
    with pytest.raises(PermitError) as refused:
        _check(permit, jwks, replay=replay)
    assert refused.value.reason == "replayed"


def test_an_expired_permit_is_refused(runtime: Runtime) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    signer = PermitSigner(
        runtime.database, issuer="sluicegate", ttl_seconds=300, clock=lambda: long_ago
    )
    from policy.proposal import Proposal

    permit = signer.issue(
        agent_id="a", proposal=Proposal.model_validate(DRAFT), decision_id="d", revision="r"
    ).token
    jwks = PermitSigner(runtime.database, issuer="sluicegate", ttl_seconds=300).jwks()
    with pytest.raises(PermitError) as refused:
        _check(permit, jwks)
    assert refused.value.reason == "expired"


def test_after_a_rotation_old_permits_verify_until_they_expire(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    old = _allowed(client, agent_headers)["permit"]
    rotated = CliRunner().invoke(
        cli,
        ["permits", "rotate-key"],
        env={"SLUICEGATE_DATABASE_URL": runtime.settings.database_url},
    )
    assert rotated.exit_code == 0, rotated.output
    jwks = client.get("/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 2
    _check(old, jwks)  # the old key is still published
    later = datetime.now(UTC) + timedelta(seconds=runtime.settings.permit_ttl_seconds + 10)
    published = PermitSigner(runtime.database, issuer="i", ttl_seconds=300, clock=lambda: later)
    assert [k["kid"] for k in published.jwks()["keys"]] == [jwks["keys"][0]["kid"]]
    fresh = PermitSigner(runtime.database, issuer="sluicegate", ttl_seconds=300)
    new = fresh.issue(
        agent_id="a", proposal=Proposal.model_validate(DRAFT), decision_id="d2", revision="r"
    ).token
    assert new.split(".")[0] != old.split(".")[0]  # signed with the new key
    _check(new, jwks)
    assert rotate_key(runtime.database) not in {k["kid"] for k in jwks["keys"]}


def test_the_gate_and_the_verifier_compute_one_digest() -> None:
    action = {"type": "x", "amount": {"value": 5000.0, "currency": "USD"}, "target": "é"}
    changes = [{"record": "r", "field": "f", "to": 1}]
    assert action_digest(action, changes) == verifier_digest(action, changes)


CRM_UPDATE: dict[str, Any] = {
    "idempotency_key": "crm-1",
    "action": {"type": "crm.contact.update", "environment": "production", "target": "crm"},
    "changes": [{"record": "contact/9", "field": "title", "from": "CTO", "to": "CEO"}],
    "justification": "title changed",
    "confidence": 0.9,
}


@pytest.fixture
def sampled_world(database_url: str, pack_copy: Path) -> Iterator[tuple[TestClient, Runtime]]:
    """A gateway whose pack samples every production action for a post-hoc review."""
    rates = {"1": 1.0, "2": 1.0, "3": 1.0}
    (pack_copy / "data" / "sampling.yaml").write_text(
        yaml.safe_dump({"sandbox": rates, "staging": rates, "production": rates})
    )
    settings = Settings(database_url=database_url, rules=pack_copy, audit_signing_key=AUDIT_KEY)
    with TestClient(create_app(settings)) as client:
        yield client, client.app.state.runtime  # type: ignore[attr-defined]


def test_a_permit_reaches_only_the_agent_it_was_issued_to(
    sampled_world: tuple[TestClient, Runtime],
) -> None:
    """Its answer, and its replays with the same key; never a read by anyone (the agent's
    owner, auditors, admins, post-hoc reviewers, the agent itself), a review, an export, the
    log or any row of the store: whoever holds a permit may spend it first."""
    client, runtime = sampled_world
    database = runtime.database
    owner, _ = create_key(database, name="olga", role=Role.REVIEWER, scopes=["group:x"])
    _, agent_key = create_key(
        database, name="bot", role=Role.AGENT, scopes=["*"], owner_id=owner.id
    )
    agent = {"Authorization": f"Bearer {agent_key}"}
    answered = client.post("/v1/decisions", json=CRM_UPDATE, headers=agent)
    assert answered.status_code == 201, answered.text
    decision = answered.json()
    permit = decision["permit"]
    assert decision["outcome"] == "sample"
    assert decision["sample"]["selected"]
    replayed = client.post("/v1/decisions", json=CRM_UPDATE, headers=agent)
    assert (replayed.status_code, replayed.json()) == (200, decision)  # the same token again

    readers = {
        "the agent": agent,
        "its owner": {"Authorization": f"Bearer {_key_of(database, 'olga')}"},
        "an auditor": bearer(runtime, Role.AUDITOR),
        "an admin": bearer(runtime, Role.ADMIN),
        "a post-hoc reviewer": bearer(runtime, Role.REVIEWER, ["group:sales-ops"]),
    }
    decision_id = decision["decision_id"]
    seen: list[str] = []
    for who, headers in readers.items():
        read = client.get(f"/v1/decisions/{decision_id}", headers=headers)
        assert read.status_code == 200, (who, read.text)
        assert read.json()["permit"] is None, who
        seen.append(read.text)
    reviewer, auditor = readers["a post-hoc reviewer"], readers["an auditor"]
    (review,) = client.get("/v1/reviews", params={"kind": "post_hoc"}, headers=reviewer).json()
    seen.append(client.get(f"/v1/reviews/{review['id']}", headers=reviewer).text)
    for path in ("/v1/audit/events", "/v1/audit/export.ndjson", "/v1/audit/export.csv"):
        seen.append(client.get(path, headers=auditor).text)
    assert not any(permit in text for text in seen)
    with database.connect() as connection:
        assert not any(permit in row for row in every_row(connection))


def _key_of(database: Any, name: str) -> str:
    _, key = create_key(database, name=name, role=Role.REVIEWER, scopes=["group:x"])
    return key
