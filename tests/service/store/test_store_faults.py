"""Store faults are 503 with Retry-After, never 500: with PostgreSQL down or read-only, and
when one record of a group commit is refused, the others still commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from policy.proposal import Proposal
from service.app import create_app
from service.audit.signing import new_private_pem
from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.errors import AuditUnavailable
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import REFUND, RULES
from tests.postgres import PostgresCluster


def _settings(url: str) -> Settings:
    return Settings(database_url=url, rules=RULES, audit_signing_key=SecretStr(new_private_pem()))


@pytest.fixture
def on_postgres(postgres: PostgresCluster) -> Iterator[tuple[TestClient, str, dict[str, str]]]:
    url = postgres.database()
    with TestClient(create_app(_settings(url))) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _, key = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
        try:
            yield client, url, {"Authorization": f"Bearer {key}"}
        finally:
            postgres.bring_back(url)


def _every_answer_is_503(client: TestClient, headers: dict[str, str], made: str) -> None:
    answers = [
        client.post("/v1/decisions", json=REFUND | {"idempotency_key": f"k{i}"}, headers=headers)
        for i in range(5)
    ]
    answers += [
        client.get(f"/v1/decisions/{made}", headers=headers),
        client.post(f"/v1/decisions/{made}/outcome", json={"status": "executed"}, headers=headers),
        client.get("/readyz"),
    ]
    assert [a.status_code for a in answers] == [503] * len(answers), [a.text for a in answers]
    assert all(a.headers["retry-after"] == "1" for a in answers)


def test_postgresql_down_gives_503_and_not_ready_then_recovers(
    on_postgres: tuple[TestClient, str, dict[str, str]], postgres: PostgresCluster
) -> None:
    client, url, headers = on_postgres
    made = client.post("/v1/decisions", json=REFUND, headers=headers).json()["decision_id"]
    postgres.take_down(url)
    _every_answer_is_503(client, headers, made)
    postgres.bring_back(url)
    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/decisions", json=REFUND, headers=headers).status_code == 201


def test_a_read_only_store_is_not_ready(
    on_postgres: tuple[TestClient, str, dict[str, str]], postgres: PostgresCluster
) -> None:
    client, url, headers = on_postgres
    assert client.get("/readyz").status_code == 200
    postgres.make_read_only(url)
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["error"]["code"]) == (503, "not_ready")
    refused = client.post("/v1/decisions", json=REFUND, headers=headers)
    assert refused.status_code == 503


POISON = "poison.me"
_REFUSE_ON_SQLITE = f"""CREATE TRIGGER refuse BEFORE INSERT ON decisions
WHEN NEW.action_type = '{POISON}' BEGIN SELECT RAISE(ABORT, 'refused'); END"""
_REFUSE_ON_POSTGRESQL = [
    f"""CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
    IF NEW.action_type = '{POISON}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER refuse BEFORE INSERT ON decisions FOR EACH ROW EXECUTE FUNCTION refuse()",
]


def _refuse_poison(runtime: Runtime) -> None:
    """The store refuses one kind of row, as it would a row it cannot hold."""
    postgresql = runtime.database.dialect.name == "postgresql"
    with runtime.database.begin() as connection:
        for statement in _REFUSE_ON_POSTGRESQL if postgresql else [_REFUSE_ON_SQLITE]:
            connection.execute(text(statement))


def _poisoned(kind: str) -> dict[str, Any]:
    if kind == "nul":  # what the HTTP parser refuses, handed to the decider directly
        return REFUND | {"work_item": {"id": "WI-\x00", "type": "t"}}
    return REFUND | {"action": REFUND["action"] | {"type": POISON}}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_one_refused_record_fails_alone_in_its_group_commit(database_url: str) -> None:
    runtime = Runtime(_settings(database_url))
    try:
        agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
        _refuse_poison(runtime)
        kinds = ["trigger"] + (["nul"] if database_url.startswith("postgresql") else [])

        async def burst() -> list[Any]:
            calls = [
                runtime.decider.decide(Proposal.model_validate(_poisoned(kind)), agent)
                for kind in kinds
            ]
            calls += [
                runtime.decider.decide(Proposal.model_validate(REFUND), agent) for _ in range(40)
            ]
            return await asyncio.gather(*calls, return_exceptions=True)

        answers = asyncio.run(burst())
        refused, decided = answers[: len(kinds)], answers[len(kinds) :]
        assert all(isinstance(a, AuditUnavailable) for a in refused), refused
        assert not [a for a in decided if isinstance(a, BaseException)]
        assert verify_store(runtime.database, runtime.signing_key.public_key()).ok
    finally:
        runtime.close()
