"""People, not keys: a person with two keys is one person to four eyes, to a two-approver
review and to revocation; keys are listed and revoked by id; a revocation reaches every
gateway within a second."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from service.auth.keys import KeyAuthenticator, create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.cli.main import app as cli
from service.runtime import Runtime
from service.store.database import database_engine, migrate, migrate_down
from tests.fixtures import REFUND, bearer

runner = CliRunner()
FINANCE = ["group:finance-approvers"]
BIG_REFUND: dict[str, Any] = REFUND | {
    "action": REFUND["action"] | {"amount": {"value": 20000, "currency": "USD"}}
}


def _review_of(client: TestClient, body: dict[str, Any], agent: dict[str, str]) -> str:
    answer = client.post("/v1/decisions", json=body, headers=agent).json()
    assert answer["outcome"] == "route_to_human", answer
    return str(answer["review"]["id"])


def test_an_owner_with_a_second_key_still_may_not_approve_their_agent(
    client: TestClient, runtime: Runtime
) -> None:
    bearer(runtime, Role.REVIEWER, FINANCE, name="olga")
    owner_id = principal_named(runtime.database, "olga")
    _, agent_key = create_key(
        runtime.database, name="olgas-bot", role=Role.AGENT, scopes=["*"], owner_id=owner_id
    )
    review = _review_of(client, REFUND, {"Authorization": f"Bearer {agent_key}"})
    rotated = bearer(runtime, Role.REVIEWER, FINANCE, name="olga")  # olga's new key
    answer = client.post(f"/v1/reviews/{review}/approve", json={}, headers=rotated)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "four_eyes")


def test_one_person_cannot_give_both_approvals(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str]
) -> None:
    review = _review_of(client, BIG_REFUND, agent_headers)
    first = bearer(runtime, Role.REVIEWER, FINANCE, name="fiona")
    second = bearer(runtime, Role.REVIEWER, FINANCE, name="fiona")
    once = client.post(f"/v1/reviews/{review}/approve", json={}, headers=first).json()
    assert (once["state"], len(once["approvals"])) == ("pending", 1)
    again = client.post(f"/v1/reviews/{review}/approve", json={}, headers=second)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_approved")
    felix = bearer(runtime, Role.REVIEWER, FINANCE, name="felix")
    done = client.post(f"/v1/reviews/{review}/approve", json={}, headers=felix).json()
    assert done["state"] == "approved"
    assert [a["name"] for a in done["approvals"]] == ["fiona", "felix"]


def test_a_person_cannot_hold_an_agent_key(runtime: Runtime) -> None:
    bearer(runtime, Role.REVIEWER, FINANCE, name="fiona")
    with pytest.raises(ValueError, match="is a person"):
        create_key(runtime.database, name="fiona", role=Role.AGENT, scopes=["*"])


def _keys(url: str) -> list[dict[str, Any]]:
    listed = runner.invoke(cli, ["keys", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows: list[dict[str, Any]] = json.loads(listed.output)
    return rows


def _create(*args: str) -> str:
    made = runner.invoke(cli, ["keys", "create", *args])
    assert made.exit_code == 0, made.output
    return made.output.strip().splitlines()[-1]


def test_keys_are_listed_and_revoked_by_id_or_by_name(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_url
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", url)
    old = _create("--role", "reviewer", "--name", "fiona", "--scope", FINANCE[0])
    new = _create("--role", "reviewer", "--name", "fiona", "--scope", FINANCE[0])
    _create("--role", "agent", "--name", "bot", "--scope", "*", "--owner", "fiona")
    rows = _keys(url)
    assert [{k: row[k] for k in ("name", "role", "scopes", "owner")} for row in rows] == [
        {"name": "fiona", "role": "reviewer", "scopes": FINANCE, "owner": None},
        {"name": "fiona", "role": "reviewer", "scopes": FINANCE, "owner": None},
        {"name": "bot", "role": "agent", "scopes": ["*"], "owner": "fiona"},
    ]
    assert {"id", "name", "role", "scopes", "owner", "created_at", "revoked_at"} <= set(rows[0])
    assert rows[0]["principal_id"] == rows[1]["principal_id"] != rows[2]["principal_id"]
    assert all(row["revoked_at"] is None for row in rows)
    # The id is the key's public part: `sg_<id>_<secret>`.
    assert [old.split("_")[1], new.split("_")[1]] == [rows[0]["id"], rows[1]["id"]]

    revoked = runner.invoke(cli, ["keys", "revoke", "--id", rows[0]["id"]])
    assert revoked.exit_code == 0, revoked.output
    database = database_engine(url)
    authenticator = KeyAuthenticator(database, ttl=0)
    assert authenticator.authenticate(old) is None
    still = authenticator.authenticate(new)
    assert still is not None  # the person's other key still works
    assert still.name == "fiona"
    assert runner.invoke(cli, ["keys", "revoke", "--id", rows[0]["id"]]).exit_code == 2

    assert runner.invoke(cli, ["keys", "revoke", "--name", "fiona"]).exit_code == 0
    assert authenticator.authenticate(new) is None
    assert [row["revoked_at"] is not None for row in _keys(url)] == [True, True, False]
    text_listing = runner.invoke(cli, ["keys", "list"]).output.splitlines()
    assert text_listing[0].split() == [
        "id", "name", "role", "scopes", "owner", "created_at", "revoked_at"
    ]  # fmt: skip
    assert len(text_listing) == 4
    database.dispose()


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_revoked_on_one_gateway_is_refused_by_another_within_a_second(
    runtime: Runtime,
) -> None:
    # Two gateways on one store: this runtime revokes, the other had the key cached.
    clock = Ticking()
    other = KeyAuthenticator(runtime.database, ttl=30, clock=clock)  # asks for 30, gets 1
    principal, key = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    assert other.authenticate(key) == principal
    second, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    runner_env = {"SLUICEGATE_DATABASE_URL": runtime.settings.database_url}
    revoked = runner.invoke(cli, ["keys", "revoke", "--id", principal.key_id], env=runner_env)
    assert revoked.exit_code == 0, revoked.output
    clock.now += 0.5
    assert other.cached(key) == principal  # still inside the second
    clock.now += 0.5
    assert other.cached(key) is None
    assert other.authenticate(key) is None
    assert second.id == principal.id


def test_migrating_merges_the_keys_that_share_a_name(database_url: str) -> None:
    database = database_engine(database_url)
    try:
        _check_the_merge(database)
    finally:
        database.dispose()


def _check_the_merge(database: Engine) -> None:
    migrate(database, "0005")
    rows = [
        ("p1", "fiona", "reviewer", "k1", '["group:x"]', "2026-01-01 00:00:00", None, None),
        ("p2", "fiona", "reviewer", "k2", '["group:x"]', "2026-02-01 00:00:00", None, None),
        ("p3", "bot", "agent", "k3", '["*"]', "2026-01-02 00:00:00", None, "p2"),
    ]
    with database.begin() as connection:
        for row in rows:
            connection.execute(
                text(
                    "INSERT INTO principals (id, name, role, key_id, key_hash, scopes, created_at,"
                    " revoked_at, owner_id) VALUES (:id, :name, :role, :key, 'h', :scopes,"
                    " :created, :revoked, :owner)"
                ),
                dict(zip(("id", "name", "role", "key", "scopes", "created", "revoked", "owner"),
                         row, strict=True)),
            )  # fmt: skip
        connection.execute(
            text(
                "INSERT INTO decisions (decision_id, principal_id, request_digest, action_type,"
                " outcome, risk_tier, body, created_at) VALUES ('d1', 'p2', 'x', 'a', 'allow', 0,"
                " '{}', '2026-02-02 00:00:00')"
            )
        )
    migrate(database)
    with database.connect() as connection:
        principals = connection.execute(
            text("SELECT id, name, kind, owner_id FROM principals ORDER BY name")
        ).all()
        keys = connection.execute(text("SELECT id, principal_id FROM api_keys ORDER BY id")).all()
        decision_by = connection.execute(text("SELECT principal_id FROM decisions")).scalar()
    assert [tuple(p) for p in principals] == [
        ("p3", "bot", "agent", "p1"),
        ("p1", "fiona", "person", None),
    ]
    assert [tuple(k) for k in keys] == [("k1", "p1"), ("k2", "p1"), ("k3", "p3")]
    assert decision_by == "p1"
    migrate_down(database, "0005")


def test_revoking_a_key_ends_the_review_page_sessions_signed_in_with_it(
    runtime: Runtime,
) -> None:
    from service.auth.keys import revoke_key
    from service.auth.sessions import session_of, sign_in

    old, _ = create_key(runtime.database, name="fiona", role=Role.REVIEWER, scopes=FINANCE)
    new, _ = create_key(runtime.database, name="fiona", role=Role.REVIEWER, scopes=FINANCE)
    on_old, on_new = (sign_in(runtime.database, p, hours=1) for p in (old, new))
    assert session_of(runtime.database, on_old) is not None
    revoke_key(runtime.database, old.key_id)
    assert session_of(runtime.database, on_old) is None
    still = session_of(runtime.database, on_new)
    assert still is not None
    assert still.principal.id == old.id  # one person, two keys
