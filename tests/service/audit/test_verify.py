"""Tampering with the audit log in plain SQL, and verification naming the first broken seq."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from typer.testing import CliRunner

from service.app import create_app
from service.audit.checkpointer import checkpoint_head
from service.audit.event import canonical, chain_hash
from service.audit.index import INDEX_COLUMNS, stored_index
from service.audit.signing import signing_key
from service.audit.tables import AUDIT_EVENTS
from service.audit.verify import verify_store
from service.auth.roles import Role
from service.cli.main import app as cli
from service.embedded import open_gate
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import database_engine
from tests.fixtures import AUDIT_KEY, REFUND, RULES, bearer

# The pack activation, an agent key, three decisions, a reviewer key, a claim, an approval
# and a rejection.
HEAD = 9


@pytest.fixture
def recorded(database_url: str) -> Settings:
    """A log of six events, signed at its head when the gateway stopped."""
    settings = Settings(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        reviews = [
            client.post("/v1/decisions", json=REFUND, headers=agent).json()["review"]["id"]
            for _ in range(3)
        ]
        reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
        client.post(f"/v1/reviews/{reviews[0]}/claim", headers=reviewer)
        client.post(f"/v1/reviews/{reviews[0]}/approve", json={}, headers=reviewer)
        client.post(f"/v1/reviews/{reviews[1]}/reject", json={"note": "no"}, headers=reviewer)
    return settings


def _verify(settings: Settings) -> dict[str, object]:
    """Verify the store as it is (no gateway start, which would append key events)."""
    database = database_engine(settings.database_url)
    result = verify_store(database, signing_key(settings).public_key())
    database.dispose()
    return result.model_dump()


def _sql(settings: Settings, *statements: str) -> None:
    database = database_engine(settings.database_url)
    with database.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    database.dispose()


def _forge_last_event(settings: Settings) -> None:
    """Rewrite the head's event, its hash and every column stored beside it, as an operator
    covering tracks would: only the signed checkpoint can tell."""
    database = database_engine(settings.database_url)
    with database.begin() as connection:
        prev_hash, raw = connection.execute(
            text("SELECT prev_hash, event FROM audit_events WHERE seq = :seq"), {"seq": HEAD}
        ).one()
        document = {
            "kind": "review_rejected",
            "forged": True,
            "event_id": "forged",
            "recorded_at": json.loads(raw)["recorded_at"],
        }
        forged = canonical(document)
        index = stored_index(document)
        columns = {column: index[column] for column in INDEX_COLUMNS}
        connection.execute(
            update(AUDIT_EVENTS)
            .where(AUDIT_EVENTS.c.seq == HEAD)
            .values(event=forged.decode(), hash=chain_hash(prev_hash, forged), **columns)
        )
    database.dispose()


def test_an_untouched_log_verifies(recorded: Settings) -> None:
    result = _verify(recorded)
    assert result["ok"] is True
    assert (result["events"], result["head_seq"]) == (HEAD, HEAD)
    assert result["checkpoints"] == 1


TAMPERING: dict[str, tuple[Callable[[Settings], None], int, str]] = {
    "edit an event": (
        lambda s: _sql(
            s, "UPDATE audit_events SET event = replace(event, '5000', '50') WHERE seq = 3"
        ),
        3,
        "edited",
    ),
    "delete an event": (lambda s: _sql(s, "DELETE FROM audit_events WHERE seq = 3"), 3, "missing"),
    # The columns queries filter on are outside the hash: verification rebuilds them.
    "edit the outcome column": (
        lambda s: _sql(s, "UPDATE audit_events SET outcome = 'allow' WHERE seq = 3"),
        3,
        "index column outcome",
    ),
    "edit the risk tier column": (
        lambda s: _sql(s, "UPDATE audit_events SET risk_tier = 0 WHERE seq = 4"),
        4,
        "index column risk_tier",
    ),
    "edit the agent column": (
        lambda s: _sql(s, "UPDATE audit_events SET agent_id = 'someone-else' WHERE seq = 5"),
        5,
        "index column agent_id",
    ),
    "edit the decision column": (
        lambda s: _sql(s, "UPDATE audit_events SET decision_id = 'another' WHERE seq = 3"),
        3,
        "index column decision_id",
    ),
    "add a rule to the rule index": (
        lambda s: _sql(s, "INSERT INTO audit_event_rules (rule, seq) VALUES ('money.none', 4)"),
        4,
        "index column rules",
    ),
    "remove a rule from the rule index": (
        lambda s: _sql(s, "DELETE FROM audit_event_rules WHERE seq = 5"),
        5,
        "index column rules",
    ),
    "reorder two events": (
        lambda s: _sql(
            s,
            "UPDATE audit_events SET seq = -1 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 4",
            "UPDATE audit_events SET seq = 4 WHERE seq = -1",
        ),
        3,
        "prev_hash",
    ),
    "truncate the tail": (
        lambda s: _sql(s, "DELETE FROM audit_events WHERE seq > 4"),
        5,
        "cut from the tail",
    ),
    "rewrite the tail": (_forge_last_event, HEAD, "rewritten"),
    "forge a checkpoint": (
        lambda s: _sql(s, f"UPDATE audit_checkpoints SET hash = 'sha256:{'ab' * 32}'"),
        HEAD,
        "not signed",
    ),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_verification_names_the_first_broken_seq(recorded: Settings, how: str) -> None:
    tamper, broken_seq, reason = TAMPERING[how]
    tamper(recorded)
    result = _verify(recorded)
    assert result["ok"] is False
    assert result["first_broken_seq"] == broken_seq
    assert reason in str(result["reason"])


def test_the_cli_verifies_and_fails_on_a_broken_log(
    recorded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", recorded.database_url)
    monkeypatch.setenv("SLUICEGATE_AUDIT_SIGNING_KEY", AUDIT_KEY.get_secret_value())
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    _sql(recorded, "DELETE FROM audit_events WHERE seq = 2")
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at seq 2" in broken.output


def test_only_auditors_and_admins_verify(recorded: Settings) -> None:
    with TestClient(create_app(recorded)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        for role, status in ((Role.AGENT, 403), (Role.REVIEWER, 403), (Role.ADMIN, 200)):
            assert client.get("/v1/audit/verify", headers=bearer(runtime, role)).status_code == (
                status
            )
        key = client.get("/v1/audit/public-key", headers=bearer(runtime, Role.AUDITOR)).text
        assert key.startswith("-----BEGIN PUBLIC KEY-----")


@pytest.mark.parametrize("paced", [False, True], ids=["at-stop", "periodic"])
def test_a_gateway_never_signs_a_chain_that_was_tampered_with(
    recorded: Settings, paced: bool
) -> None:
    with TestClient(create_app(recorded)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        after = client.post("/v1/decisions", json=REFUND, headers=agent).json()["audit"]["seq"]
        _sql(
            recorded,
            f"UPDATE audit_events SET event = replace(event, '5000', '1') WHERE seq = {after}",
        )
        assert checkpoint_head(runtime.database, runtime.signing_key, paced=paced) is None
        _sql(recorded, f"UPDATE audit_events SET hash = 'sha256:00' WHERE seq = {after}")
        assert checkpoint_head(runtime.database, runtime.signing_key, paced=paced) is None
    database = database_engine(recorded.database_url)
    with database.connect() as connection:
        assert connection.execute(text("SELECT max(seq) FROM audit_checkpoints")).one() == (HEAD,)
    database.dispose()


def test_a_large_float_in_a_proposal_still_verifies(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    # RFC 8785 writes the double 1e20 as 100000000000000000000; read back, it is a double
    # again, not an integer beyond 2^53 (schemathesis found this on PostgreSQL).
    huge = REFUND | {"changes": [{"record": "r", "field": "f", "to": 1e20}]}
    assert client.post("/v1/decisions", json=huge, headers=agent_headers).status_code == 201
    assert verify_store(runtime.database, runtime.signing_key.public_key()).ok


def test_a_periodic_checkpoint_rests_between_runs_and_signs_the_same_head(
    database_url: str,
) -> None:
    # More events than one paced run (50): it rests between runs, and verifies all of them.
    with open_gate(
        database_url=database_url,
        rules=RULES,
        audit_signing_key=AUDIT_KEY,
        audit_checkpoint_seconds=86_400,  # no periodic checkpoint during the test
    ) as gate:
        for index in range(120):
            gate.decide(REFUND | {"justification": f"case {index}"}, agent="billing-bot")
        runtime = gate._runtime
        signed = checkpoint_head(runtime.database, runtime.signing_key, paced=True)
        assert signed is not None
        assert verify_store(runtime.database, runtime.signing_key.public_key()).head_seq == (
            signed.seq
        )
        assert signed.seq > 120
