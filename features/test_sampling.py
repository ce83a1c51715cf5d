"""Runs features/sampling.feature: a gateway whose pack makes the production tier-1 post-hoc
rate adaptive, an agent and a post-hoc reviewer over HTTP, and the adaptive worker driven
by hand (its tick is an hour here), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import update

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.reviews.tables import REVIEW_TASKS
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import writing
from service.store.utc import utc_now
from tests.fixtures import AUDIT_KEY, RegoBackend, copy_of_pack

scenarios("sampling.feature")
UPDATE = {
    "action": {"type": "crm.contact.update", "environment": "production"},
    "changes": [{"record": "contact/1", "field": "title", "to": "CTO"}],
    "justification": "title changed", "confidence": 0.9,
}  # fmt: skip
# Decisions asked for at most, to get the post-hoc reviews a step needs (the pick is by id).
MOST_DECISIONS = 400


@pytest.fixture
def rego_backend() -> RegoBackend:
    return RegoBackend("rego-embedded")  # sampling is the store's, not Rego's


@dataclass
class Sampled:
    client: TestClient
    runtime: Runtime
    agent: dict[str, str] = field(default_factory=dict)
    reviewer: dict[str, str] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def changed(self) -> list[dict[str, Any]]:
        auditor = self.auditor()
        events = self.client.get(
            "/v1/audit/events", params={"kind": "sampling_rate_changed"}, headers=auditor
        ).json()["events"]
        return [event["event"] for event in events]

    def auditor(self) -> dict[str, str]:
        _, key = create_key(self.runtime.database, name=f"audit-{len(self.changes)}-{id(self)}",
                            role=Role.AUDITOR, scopes=[])  # fmt: skip
        return {"Authorization": f"Bearer {key}"}

    def review_post_hoc(self, count: int, violations: int) -> None:
        """Decide contact updates until `count` post-hoc reviews are open, then give them
        their verdicts: the first `violations` should not have happened."""
        open_reviews: list[dict[str, Any]] = []
        for _ in range(MOST_DECISIONS):
            if len(open_reviews) >= count:
                break
            decided = self.client.post("/v1/decisions", json=UPDATE, headers=self.agent).json()
            assert decided["outcome"] == "sample", decided
            if decided["sample"]["selected"]:
                open_reviews.append(decided)
        assert len(open_reviews) == count
        listed = self.client.get(
            "/v1/reviews", params={"kind": "post_hoc", "state": "pending", "limit": 200},
            headers=self.reviewer,
        ).json()  # fmt: skip
        for index, review in enumerate(listed[:count]):
            verdict = "should_not_have_happened" if index < violations else "ok"
            answer = self.client.post(
                f"/v1/reviews/{review['id']}/verdict",
                json={"verdict": verdict, "note": "checked"},
                headers=self.reviewer,
            )
            assert answer.status_code == 200, answer.text
        self.runtime.rates.refresh()


@pytest.fixture
def sampled(database_url: str, tmp_path: Path) -> Iterator[Sampled]:
    pack = copy_of_pack(tmp_path / "rules")
    sampling = yaml.safe_load((pack / "data" / "sampling.yaml").read_text())
    sampling["production"]["1"] = {"rate": 0.5, "min": 0.02, "max": 1.0}
    sampling["adaptive"] = {"window": "P30D", "confidence": 0.95, "gain": 2, "min_reviews": 20}
    (pack / "data" / "sampling.yaml").write_text(yaml.safe_dump(sampling))
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=pack,
        sampling_tick_seconds=3600,  # driven by hand
    )
    with TestClient(create_app(settings)) as client:
        yield Sampled(client, client.app.state.runtime)  # type: ignore[attr-defined]


@given("a pack whose production tier-1 rate adapts from 50%, between 2% and 100%")
def adaptive_pack(sampled: Sampled) -> None:
    assert sampled.runtime.rates("crm.contact.update", "production", 1) == 0.5  # type: ignore[arg-type]


@given("an agent updating CRM contacts, and a sales-ops reviewer")
def agent_and_reviewer(sampled: Sampled) -> None:
    database = sampled.runtime.database
    _, agent = create_key(database, name="crm-bot", role=Role.AGENT, scopes=["*"])
    _, reviewer = create_key(database, name="sam", role=Role.REVIEWER, scopes=["group:sales-ops"])
    sampled.agent = {"Authorization": f"Bearer {agent}"}
    sampled.reviewer = {"Authorization": f"Bearer {reviewer}"}


@when(
    parsers.parse(
        "{count:d} contact updates are picked for post-hoc review and {bad:d} should not have "
        "happened"
    )
)
def reviewed_with_violations(sampled: Sampled, count: int, bad: int) -> None:
    sampled.review_post_hoc(count, bad)


@when(
    parsers.parse(
        "those verdicts leave the window, and {count:d} more are reviewed and all were fine"
    )
)
def window_moves_on(sampled: Sampled, count: int) -> None:
    long_ago = utc_now() - timedelta(days=40)
    with writing(sampled.runtime.database) as connection:
        connection.execute(update(REVIEW_TASKS).values(resolved_at=long_ago))
    sampled.review_post_hoc(count, 0)


def _percent(text: str) -> float:
    return round(float(text.rstrip("%")) / 100, 4)


@then(parsers.parse("the contact-update rate {moves} from {before} to {after}"))
def rate_moved(sampled: Sampled, moves: str, before: str, after: str) -> None:
    changes = sampled.changed()
    assert len(changes) == len(sampled.changes) + 1, changes
    latest = changes[-1]["sampling"]
    assert (latest["from"], latest["to"]) == (_percent(before), _percent(after))
    assert (latest["to"] > latest["from"]) == (moves == "rises")
    assert sampled.runtime.rates("crm.contact.update", "production", 1) == _percent(after)  # type: ignore[arg-type]
    sampled.changes = changes


@then(
    parsers.parse(
        "the change is on the audit chain with {reviewed:d} reviewed and {bad:d} violations"
    )
)
def change_has_evidence(sampled: Sampled, reviewed: int, bad: int) -> None:
    latest = sampled.changes[-1]
    assert latest["subject"] == {"action_type": "crm.contact.update", "risk_tier": 1}
    evidence = latest["sampling"]["evidence"]
    assert (evidence["reviewed"], evidence["violations"]) == (reviewed, bad)
    assert evidence["window_seconds"] == 30 * 86400


@then(parsers.parse("new contact updates record a rate of {rate}"))
def new_decisions_record_the_rate(sampled: Sampled, rate: str) -> None:
    decided = sampled.client.post("/v1/decisions", json=UPDATE, headers=sampled.agent).json()
    assert decided["sample"]["rate"] == _percent(rate)


@then(parsers.parse("every rate stayed between {low} and {high}"))
def within_bounds(sampled: Sampled, low: str, high: str) -> None:
    for change in sampled.changes:
        assert _percent(low) <= change["sampling"]["to"] <= _percent(high)
        assert change["sampling"]["bounds"] == {"rate": 0.5, "min": 0.02, "max": 1.0}
