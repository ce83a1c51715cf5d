"""Runs features/impact.feature: a gateway with a recorded history, candidates in its
candidates folder, and `POST /v1/rules/impact` as an author calls it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.utc import utc_now
from tests.fixtures import AUDIT_KEY, RULES, RegoBackend, pack_with_usd_limit

scenarios("impact.feature")
CREDITS_USD = (200, 500, 800, 950, 1200, 2500)
OTHERS: list[dict[str, Any]] = [
    {"action": {"type": "knowledge.search", "environment": "production"}},
    {"action": {"type": "data.export", "target": "dropbox://personal", "environment": "production",
                "data_classes": ["pii"]}, "justification": "export"},
    # The default pack masks this label: the replay must show the candidate does not read it.
    {"action": {"type": "crm.contact.update", "environment": "production"},
     "justification": "fix a typo", "confidence": 0.9,
     "labels": {"customer_email": "ana@example.com"}},
]  # fmt: skip


@pytest.fixture
def rego_backend() -> RegoBackend:
    # A replay runs on the embedded engine whatever the gateway uses.
    return RegoBackend("rego-embedded")


@dataclass
class History:
    client: TestClient
    candidates: Path
    headers: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def history(tmp_path: Path, database_url: str) -> Iterator[History]:
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        candidates_dir=candidates,
        # The recorded history must be the rules' answers, not a busy machine's time-outs.
        decision_budget_ms=5000,
    )
    with TestClient(create_app(settings)) as client:
        yield History(client, candidates)


@given("a gateway that has decided a day of invoice credits and other actions")
def decided_a_day(history: History) -> None:
    runtime = history.client.app.state.runtime  # type: ignore[attr-defined]
    _, key = create_key(runtime.database, name="billing-bot", role=Role.AGENT, scopes=["*"])
    for value in CREDITS_USD:
        credit = {
            "action": {"type": "billing.invoice.adjust", "environment": "production",
                       "amount": {"value": value, "currency": "USD"}},
            "work_item": {"id": f"WI-{value}"}, "justification": "credit", "confidence": 0.9,
        }  # fmt: skip
        answer = history.client.post(
            "/v1/decisions", json=credit, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 201, answer.text
    for body in OTHERS:
        answer = history.client.post(
            "/v1/decisions", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 201, answer.text


@given("an author")
def author(history: History) -> None:
    runtime = history.client.app.state.runtime  # type: ignore[attr-defined]
    _, key = create_key(runtime.database, name="carla", role=Role.AUTHOR, scopes=[])
    history.headers = {"Authorization": f"Bearer {key}"}


@when(parsers.parse("the author replays the day with the USD autonomous limit at {limit:d}"))
def replay(history: History, limit: int) -> None:
    name = f"usd-{limit}"
    pack_with_usd_limit(history.candidates / name, limit)
    now = utc_now()
    body = {
        "candidate": name,
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
    }
    answer = history.client.post("/v1/rules/impact", json=body, headers=history.headers)
    assert answer.status_code == 200, answer.text
    history.report = answer.json()


@then(parsers.re(r"(?P<count>\d+) decisions? changes? from (?P<before>\w+) to (?P<after>\w+)"))
def changes(history: History, count: str, before: str, after: str) -> None:
    assert history.report["transitions"] == {f"{before}->{after}": int(count)}
    assert history.report["changed"] == int(count)
    assert {e["from"] for e in history.report["examples"]} == {before}


@then("no decision changes")
def no_change(history: History) -> None:
    assert history.report["changed"] == 0
    assert history.report["transitions"] == {}


@then(parsers.parse("the rules behind the changes include {rule}"))
def rules_behind(history: History, rule: str) -> None:
    assert rule in history.report["rules"]


@then(
    parsers.re(
        r"the (?P<queue>[\w-]+) queue gets (?P<count>\d+) (?P<way>more|fewer) reviews? a day"
    )
)
def queue_gets(history: History, queue: str, count: str, way: str) -> None:
    impact = history.report["queues"][queue]
    expected = int(count) if way == "more" else -int(count)
    # The window is a day and a minute long.
    assert impact["extra_per_day"] == pytest.approx(expected, rel=0.01)


@then("the active pack reproduces every replayed decision")
def fidelity(history: History) -> None:
    found = history.report["fidelity"]
    assert found["replayed"] == history.report["replayed"] == len(CREDITS_USD) + len(OTHERS)
    assert found["same"] == found["replayed"], found["differing"]


@then("no decision is unreplayable")
def all_replayable(history: History) -> None:
    assert history.report["unreplayable"] == 0, history.report["unreplayable_examples"]
