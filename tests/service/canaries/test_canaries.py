"""Canaries beyond the feature: no reviewer is asked more than the pack's daily most, the pack
may tell a reviewer afterwards, /metrics counts answers without names unless the operator
names reviewers, and incidents become proposed canaries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.canaries.scores import canary_report
from service.cli.main import app as cli
from service.reviews.tasks import task_row
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, REFUND, copy_of_pack

CANARY = {
    "id": "refund-to-unknown-account",
    "queue": "finance-approvers",
    "agent": "billing-bot",
    "expect": "reject",
    "why": "the account is not the customer's",
    "proposal": REFUND | {"justification": "duplicate charge"},
}


def _pack(tmp_path: Path, *, every: int, most: int, reveal: bool) -> Path:
    pack = copy_of_pack(tmp_path / "rules")
    canaries = {
        "settings": {"reveal_after_verdict": reveal},
        "queues": {"finance-approvers": {"every": every, "max_per_reviewer_per_day": most}},
        "canaries": [CANARY],
    }
    (pack / "data" / "canaries.yaml").write_text(yaml.safe_dump(canaries))
    return pack


def _served(database_url: str, pack: Path, **more: Any) -> TestClient:
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=pack,
        canary_tick_seconds=3600,
        ui_cookie_secure=False,
        **more,
    )
    return TestClient(create_app(settings))


def _keys(runtime: Runtime) -> dict[str, dict[str, str]]:
    keys = {}
    for who, role, scopes in (
        ("billing-bot", Role.AGENT, ["*"]),
        ("fiona", Role.REVIEWER, ["group:finance-approvers"]),
    ):
        _, key = create_key(runtime.database, name=who, role=role, scopes=scopes)
        keys[who] = {"Authorization": f"Bearer {key}"}
    return keys


@pytest.fixture
def capped(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    with _served(database_url, _pack(tmp_path, every=1, most=1, reveal=False)) as client:
        yield client, client.app.state.runtime  # type: ignore[attr-defined]


def test_no_reviewer_is_asked_more_than_the_daily_most(capped: tuple[TestClient, Runtime]) -> None:
    client, runtime = capped
    keys = _keys(runtime)
    for index in range(2):
        body = REFUND | {"idempotency_key": f"r{index}"}
        client.post("/v1/decisions", json=body, headers=keys["billing-bot"])
        runtime.canaries.seed_due()
    listed = client.get("/v1/reviews", headers=keys["fiona"]).json()
    assert len(listed) == 4  # two real, two checks
    for review in listed:
        client.post(f"/v1/reviews/{review['id']}/approve", json={}, headers=keys["fiona"])
        if _answered_checks(runtime) == 1:
            break
    left = client.get("/v1/reviews", headers=keys["fiona"], params={"state": "pending"}).json()
    assert all(not _is_check(runtime, review["id"]) for review in left)  # the other is not shown
    queues = client.get("/v1/reviews/queues", headers=keys["fiona"]).json()
    (finance,) = [q for q in queues if q["name"] == "finance-approvers"]
    assert finance["pending"] == len(left)


def _answered_checks(runtime: Runtime) -> int:
    return sum(score.answered for score in canary_report(runtime.database).queues)


def _is_check(runtime: Runtime, review_id: str) -> bool:
    with runtime.database.connect() as connection:
        return task_row(connection, review_id).canary_id is not None


def test_the_pack_may_tell_the_reviewer_afterwards_and_metrics_count_answers(
    database_url: str, tmp_path: Path
) -> None:
    pack = _pack(tmp_path, every=1, most=5, reveal=True)
    with _served(database_url, pack, metrics_name_reviewers=True) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        keys = _keys(runtime)
        client.post("/v1/decisions", json=REFUND, headers=keys["billing-bot"])
        assert runtime.canaries.seed_due() == 1
        check = next(r for r in client.get("/v1/reviews", headers=keys["fiona"]).json()
                     if _is_check(runtime, r["id"]))  # fmt: skip
        form = client.get("/ui/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/ui/login",
            data={"key": keys["fiona"]["Authorization"][7:], "csrf_token": token},
            follow_redirects=False,
        )
        page = client.get(f"/ui/reviews/{check['id']}").text
        assert "known-answer check" not in page  # not before the verdict
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        done = client.post(
            f"/ui/reviews/{check['id']}/reject",
            data={"csrf_token": csrf, "note": "wrong account", "cause": "other"},
        )
        assert "That was a known-answer check" in done.text
        assert "the account is not the customer" in done.text
        metrics = client.get("/metrics").text
    labels = 'answer="right",queue="finance-approvers",reviewer="fiona"'
    assert f"sluicegate_canary_answers_total{{{labels}}} 1.0" in metrics


def test_incidents_become_proposed_canaries(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = copy_of_pack(tmp_path / "rules")
    rates = yaml.safe_load((pack / "data" / "sampling.yaml").read_text())
    rates["production"] = {"1": 1.0, "2": 1.0, "3": 1.0}
    (pack / "data" / "sampling.yaml").write_text(yaml.safe_dump(rates))
    update = {
        "action": {"type": "crm.contact.update", "environment": "production"},
        "changes": [{"record": "contact/1", "field": "title", "to": "CTO"}],
        "justification": "title changed", "confidence": 0.9,
    }  # fmt: skip
    with _served(database_url, pack) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _, agent = create_key(runtime.database, name="crm-bot", role=Role.AGENT, scopes=["*"])
        _, sam = create_key(
            runtime.database, name="sam", role=Role.REVIEWER, scopes=["group:sales-ops"]
        )
        decided = client.post(
            "/v1/decisions", json=update, headers={"Authorization": f"Bearer {agent}"}
        )
        assert decided.json()["sample"]["selected"]
        (review,) = client.get("/v1/reviews", headers={"Authorization": f"Bearer {sam}"}).json()
        client.post(
            f"/v1/reviews/{review['id']}/verdict",
            json={"verdict": "should_not_have_happened", "note": "the title was right"},
            headers={"Authorization": f"Bearer {sam}"},
        )
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", database_url)
    printed = CliRunner().invoke(cli, ["canaries", "from-incidents", "--rules", str(pack)])
    assert printed.exit_code == 0, printed.output
    (proposed,) = yaml.safe_load(printed.output)["canaries"]
    assert proposed | {"id": "x"} == {
        "id": "x",
        "queue": "sales-ops",
        "agent": "crm-bot",
        "expect": "reject",
        "why": "the title was right",
        "proposal": update,
    }
