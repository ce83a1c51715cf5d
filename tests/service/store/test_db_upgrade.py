"""`sluicegate db upgrade` from the previous release's schema (0007), on a store with data in
it, on SQLite and PostgreSQL: the data survives, keys still work, the chain still verifies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from typer.testing import CliRunner

from policy.proposal import Proposal
from service.audit.signing import new_private_pem, signing_key
from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.cli.main import app
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import current_revision, database_engine, migrate, migrate_down
from tests.fixtures import REFUND, RULES

PREVIOUS_RELEASE = "0007"
# The newest schema: the highest numbered migration.
NEWEST = max(
    path.name[:4]
    for path in (Path(__file__).parents[3] / "service/store/migrations/versions").glob("0*.py")
)
runner = CliRunner()


def test_db_upgrade_brings_a_populated_store_to_the_newest_schema(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=database_url, rules=RULES, audit_signing_key=SecretStr(new_private_pem())
    )
    first = Runtime(settings)
    try:
        agent, agent_key = create_key(first.database, name="bot", role=Role.AGENT, scopes=["*"])
        reviewer, _ = create_key(
            first.database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        routed = json.loads(
            asyncio.run(first.decider.decide(Proposal.model_validate(REFUND), agent)).body
        )
        first.desk.approve(routed["review"]["id"], reviewer)
    finally:
        first.close()
    database = database_engine(database_url)
    migrate_down(database, PREVIOUS_RELEASE)  # the store as the previous release left it
    assert current_revision(database) == PREVIOUS_RELEASE

    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", database_url)
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.strip() == f"schema {PREVIOUS_RELEASE} -> {NEWEST}"
    assert runner.invoke(app, ["db", "current"]).output.strip() == NEWEST

    again = Runtime(settings)
    try:
        assert again.authenticator.authenticate(agent_key) is not None
        status = asyncio.run(again.decisions.status(routed["decision_id"], agent, wait=0))
        assert status.status.value == "approved"
        decided = asyncio.run(
            again.decider.decide(Proposal.model_validate(REFUND | {"idempotency_key": "k"}), agent)
        )
        assert json.loads(decided.body)["outcome"] == "route_to_human"
        verified = verify_store(again.database, signing_key(settings).public_key())
        assert verified.ok, verified
    finally:
        again.close()
        database.dispose()


def test_permits_stored_by_an_earlier_release_are_moved_out_and_replayed_the_same(
    database_url: str,
) -> None:
    """Before 0012 the decision body held the permit in clear; the upgrade keeps its claims
    and key id instead, and a replay of the same request answers the very same token."""
    settings = Settings(
        database_url=database_url, rules=RULES, audit_signing_key=SecretStr(new_private_pem())
    )
    draft = {
        "idempotency_key": "draft-1",
        "action": {"type": "email.customer.draft", "environment": "sandbox"},
    }
    first = Runtime(settings)
    try:
        agent, _ = create_key(first.database, name="bot", role=Role.AGENT, scopes=["*"])
        answered = asyncio.run(first.decider.decide(Proposal.model_validate(draft), agent))
        token = json.loads(answered.answer)["permit"]
        assert token
    finally:
        first.close()
    database = database_engine(database_url)
    try:
        migrate_down(database, "0011")
        with database.begin() as connection:  # as 0011's writer stored it: the token in clear
            body = connection.execute(text("SELECT body FROM decisions")).scalar_one()
            stored = body.replace('"permit":null}', f'"permit":"{token}"}}')
            connection.execute(text("UPDATE decisions SET body = :body"), {"body": stored})
        migrate(database)
        with database.connect() as connection:
            body, claims, kid = connection.execute(
                text("SELECT body, permit_claims, permit_kid FROM decisions")
            ).one()
    finally:
        database.dispose()
    assert token not in body
    assert body.endswith('"permit":null}')
    assert kid
    assert claims
    again = Runtime(settings)
    try:
        replayed = asyncio.run(again.decider.decide(Proposal.model_validate(draft), agent))
    finally:
        again.close()
    assert replayed.replayed
    assert json.loads(replayed.answer)["permit"] == token
