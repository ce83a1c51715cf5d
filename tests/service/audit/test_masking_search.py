"""A value the rule pack masks never reaches the database, the logs, an export, or anything
auditors and reviewers read."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from policy.proposal import Proposal
from service.app import create_app
from service.audit.event import digest
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine
from tests.fixtures import AUDIT_KEY, RULES, bearer
from tests.store_access import every_row

PLANTED = "planted-7f3a91@customer.example"
PROPOSAL = {
    "action": {
        "type": "payments.refund.issue",
        "environment": "production",
        "amount": {"value": 5000, "currency": "USD"},
    },
    "work_item": {"id": "WI-77"},
    "justification": "duplicate charge",
    "confidence": 0.9,
    "labels": {"customer_email": PLANTED, "tenant": "acme"},
}


def test_a_masked_value_is_found_nowhere(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    read_back: list[str] = []
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        decision = client.post("/v1/decisions", json=PROPOSAL, headers=agent).json()
        reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
        auditor = bearer(runtime, Role.AUDITOR)
        packet = client.get(f"/v1/reviews/{decision['review']['id']}", headers=reviewer)
        for response in (
            packet,
            client.get(f"/v1/decisions/{decision['decision_id']}", headers=auditor),
            client.get("/v1/reviews", headers=auditor),
            client.get("/v1/audit/verify", headers=auditor),
            client.get("/v1/audit/events", headers=auditor),
            client.get("/v1/audit/export.ndjson", headers=auditor),
            client.get("/v1/audit/export.csv", headers=auditor),
        ):
            assert response.status_code == 200
            read_back.append(response.text)
        assert packet.json()["proposal"]["labels"] == {"tenant": "acme"}

    database = database_engine(database_url)
    with database.connect() as connection:
        rows = every_row(connection)
        (event,) = connection.execute(
            text("SELECT event FROM audit_events WHERE kind = 'decision'")
        ).one()
    database.dispose()
    assert not any(PLANTED in row for row in rows)
    if database_url.startswith("sqlite"):  # the file itself, free pages and WAL included
        stored = b"".join(path.read_bytes() for path in tmp_path.glob("gate.db*"))
        assert PLANTED.encode() not in stored
    assert PLANTED not in caplog.text
    assert not any(PLANTED in text for text in read_back)

    recorded = json.loads(event)
    assert recorded["erased"] == ["/labels/customer_email"]
    # The digest is of the unmasked proposal: evidence kept elsewhere can still be matched.
    assert recorded["proposal_digest"] == digest(Proposal.model_validate(PROPOSAL).document())
