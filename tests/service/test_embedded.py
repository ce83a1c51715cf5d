"""The gate in process: the same decision and record as over HTTP, agents named by the caller."""

from __future__ import annotations

import asyncio

import pytest

from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.embedded import open_gate
from service.errors import NulCharacter, ValidationFailed
from tests.fixtures import AUDIT_KEY, REFUND, RULES


def test_decisions_in_process_are_recorded_like_any_other(database_url: str) -> None:
    with open_gate(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY) as gate:
        routed = gate.decide(REFUND, agent="billing-bot")
        again = gate.decide(REFUND | {"idempotency_key": "k1"}, agent="billing-bot")
        replay = asyncio.run(gate.adecide(REFUND | {"idempotency_key": "k1"}, agent="billing-bot"))
        assert routed["outcome"] == "route_to_human"
        assert routed["review"]["queue"] == "finance-approvers"
        assert again["audit"]["seq"] > routed["audit"]["seq"]
        assert replay == again  # the first answer, not a new decision
        runtime = gate._runtime
        verified = verify_store(runtime.database, runtime.signing_key.public_key())
        assert verified.ok
        assert verified.events == again["audit"]["seq"]  # key, pack activated, 2 decisions


def test_the_answer_is_the_json_the_api_answers(database_url: str) -> None:
    with open_gate(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY) as gate:
        answer = gate.decide(REFUND | {"idempotency_key": "same"}, agent="billing-bot")
        runtime = gate._runtime
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.auth.principals import acting_as

    with TestClient(create_app(runtime.settings)) as client:
        database = client.app.state.runtime.database  # type: ignore[attr-defined]
        agent = acting_as(database, "billing-bot", Role.AGENT)
        _, key = create_key(database, name=agent.name, role=Role.AGENT, scopes=["*"])
        replayed = client.post(
            "/v1/decisions",
            json=REFUND | {"idempotency_key": "same"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert replayed.status_code == 200
    assert replayed.json() == answer


def test_a_proposal_the_api_refuses_is_refused_with_the_same_error(database_url: str) -> None:
    with open_gate(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY) as gate:
        with pytest.raises(ValidationFailed) as invalid:
            gate.decide({"action": {"environment": "production"}}, agent="billing-bot")
        assert invalid.value.code == "validation_failed"
        with pytest.raises(NulCharacter):
            gate.decide(REFUND | {"justification": "a\x00b"}, agent="billing-bot")


def test_a_name_that_is_not_an_agent_is_refused(database_url: str) -> None:
    with open_gate(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY) as gate:
        create_key(gate._runtime.database, name="fiona", role=Role.REVIEWER, scopes=[])
        with pytest.raises(ValueError, match="is a person; only agents hold such keys"):
            gate.decide(REFUND, agent="fiona")
