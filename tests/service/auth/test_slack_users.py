"""Linking a Slack user to a person: who may be linked, what it records, how it ends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from service.auth.keys import create_key, revoke_keys_of
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.auth.slack_users import link_slack_user, slack_reviewer
from service.cli.main import app
from service.store.database import database_engine, migrate, migrate_down

runner = CliRunner()


def test_the_cli_links_a_person_and_the_chain_records_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_url
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", url)
    database = database_engine(url)
    migrate(database)
    create_key(database, name="ana", role=Role.REVIEWER, scopes=["group:finance-approvers"])
    create_key(database, name="bot", role=Role.AGENT, scopes=["*"])

    linked = runner.invoke(app, ["principals", "link", "ana", "--slack-user", "U0ANA"])
    assert linked.exit_code == 0, linked.output
    reviewer = slack_reviewer(database, "U0ANA")
    assert reviewer is not None
    assert reviewer.name == "ana"
    assert reviewer.role is Role.REVIEWER
    with database.connect() as connection:
        event = connection.execute(
            text("SELECT event FROM audit_events WHERE kind = 'slack_user_linked'")
        ).scalar_one()
    assert json.loads(event)["slack_user"] == "U0ANA"

    for refused in (
        ["principals", "link", "bot", "--slack-user", "U0BOT"],  # an agent
        ["principals", "link", "nobody", "--slack-user", "U0NOBODY"],  # unknown
        ["principals", "link", "ana", "--slack-user", "not-an-id"],
        ["principals", "link", "ana"],  # neither a user nor --unlink
    ):
        assert runner.invoke(app, refused).exit_code == 2, refused
    create_key(database, name="ben", role=Role.REVIEWER, scopes=["group:finance-approvers"])
    taken = runner.invoke(app, ["principals", "link", "ben", "--slack-user", "U0ANA"])
    assert taken.exit_code == 2
    assert "already linked to 'ana'" in taken.output

    assert runner.invoke(app, ["principals", "link", "ana", "--unlink"]).exit_code == 0
    assert slack_reviewer(database, "U0ANA") is None
    database.dispose()


def test_revoking_the_persons_keys_ends_their_slack_approvals(database_url: str) -> None:
    database = database_engine(database_url)
    migrate(database)
    create_key(database, name="ana", role=Role.REVIEWER, scopes=["group:finance-approvers"])
    link_slack_user(database, "ana", "U0ANA")
    revoke_keys_of(database, principal_named(database, "ana"))
    assert slack_reviewer(database, "U0ANA") is None
    database.dispose()


def test_the_migration_undoes_and_redoes(database_url: str) -> None:
    database = database_engine(database_url)
    try:
        migrate(database)
        create_key(database, name="ana", role=Role.REVIEWER, scopes=[])
        link_slack_user(database, "ana", "U0ANA")
        migrate_down(database, "0007")
        with database.connect() as connection:
            assert connection.execute(text("SELECT name FROM principals")).scalar() == "ana"
        migrate(database)
        assert slack_reviewer(database, "U0ANA") is None  # the link went with the column
    finally:
        database.dispose()
