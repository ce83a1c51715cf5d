"""Runs features/sampling.feature: a gateway whose pack makes the production tier-1 post-hoc
rate adaptive, an agent of two action types and a post-hoc reviewer over HTTP, and the
adaptive worker driven by hand (its tick is an hour here), on SQLite and PostgreSQL."""

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
PROPOSALS = {
    "contact": {
        "action": {"type": "crm.contact.update", "environment": "production"},
        "changes": [{"record": "contact/1", "field": "title", "to": "CTO"}],
        "justification": "title changed", "confidence": 0.9,
    },
    "stage": {
        "action": {"type": "crm.opportunity.update_stage", "environment": "production"},
        "changes": [{"record": "opportunity/7", "field": "stage", "to": "negotiation"}],
        "justification": "the buyer asked for terms", "confidence": 0.8,
    },
}  # fmt: skip
TYPES = {"contact": "crm.contact.update", "stage": "crm.opportunity.update_stage"}
# Decisions asked for at most, to get the post-hoc reviews a step needs (the pick is by id).
MOST_DECISIONS = 400
BOUNDS = {"rate": 0.5, "min": 0.02, "max": 1.0}


@pytest.fixture
def rego_backend() -> RegoBackend:
    return RegoBackend("rego-embedded")  # sampling is the store's, not Rego's


@dataclass
class Sampled:
    client: TestClient
    runtime: Runtime
    agent: dict[str, str] = field(default_factory=dict)
    reviewer: dict[str, str] = field(default_factory=dict)
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # changes per kind

    def changed(self, kind: str) -> list[dict[str, Any]]:
        """The recorded changes of one kind's rate, oldest first."""
        _, key = create_key(self.runtime.database, name=f"audit-{kind}-{len(self.seen)}",
                            role=Role.AUDITOR, scopes=[])  # fmt: skip
        events = self.client.get(
            "/v1/audit/events", params={"kind": "sampling_rate_changed"},
            headers={"Authorization": f"Bearer {key}"},
        ).json()["events"]  # fmt: skip
        return [
            event["event"]
            for event in events
            if event["event"]["subject"]["action_type"] == TYPES[kind]
        ]

    def review_post_hoc(self, kind: str, count: int, violations: int) -> None:
        """Decide actions of a kind until `count` post-hoc reviews are open, then give them
        their verdicts: the first `violations` should not have happened."""
        picked: list[str] = []
        for _ in range(MOST_DECISIONS):
            if len(picked) >= count:
                break
            decided = self.client.post(
                "/v1/decisions", json=PROPOSALS[kind], headers=self.agent
            ).json()
            assert decided["outcome"] == "sample", decided
            if decided["sample"]["selected"]:
                picked.append(decided["decision_id"])
        assert len(picked) == count
        listed = self.client.get(
            "/v1/reviews", params={"kind": "post_hoc", "state": "pending", "limit": 200},
            headers=self.reviewer,
        ).json()  # fmt: skip
        reviews = [review for review in listed if review["decision_id"] in picked]
        assert len(reviews) == count
        for index, review in enumerate(reviews):
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
    sampling["production"]["1"] = BOUNDS
    sampling["adaptive"] = {"window": "P30D", "confidence": 0.95, "min_reviews": 20}
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
    for action_type in TYPES.values():
        assert sampled.runtime.rates(action_type, "production", 1) == 0.5  # type: ignore[arg-type]


@given("an agent updating CRM contacts and opportunity stages, and a sales-ops reviewer")
def agent_and_reviewer(sampled: Sampled) -> None:
    database = sampled.runtime.database
    _, agent = create_key(database, name="crm-bot", role=Role.AGENT, scopes=["*"])
    _, reviewer = create_key(database, name="sam", role=Role.REVIEWER, scopes=["group:sales-ops"])
    sampled.agent = {"Authorization": f"Bearer {agent}"}
    sampled.reviewer = {"Authorization": f"Bearer {reviewer}"}


@when(
    parsers.parse(
        "{count:d} {kind} updates are picked for post-hoc review and {bad} should not have happened"
    )
)
def reviewed_with_violations(sampled: Sampled, count: int, kind: str, bad: str) -> None:
    sampled.review_post_hoc(kind, count, 0 if bad == "none" else int(bad))


@when(
    parsers.parse(
        "those verdicts leave the window, and {count:d} more {kind} updates are reviewed and "
        "all were fine"
    )
)
def window_moves_on(sampled: Sampled, count: int, kind: str) -> None:
    long_ago = utc_now() - timedelta(days=40)
    with writing(sampled.runtime.database) as connection:
        connection.execute(update(REVIEW_TASKS).values(resolved_at=long_ago))
    sampled.review_post_hoc(kind, count, 0)


def _percent(text: str) -> float:
    return round(float(text.rstrip("%")) / 100, 4)


@then(parsers.parse("the {kind}-update rate {moves} from {before} to {after}"))
def rate_moved(sampled: Sampled, kind: str, moves: str, before: str, after: str) -> None:
    changes = sampled.changed(kind)
    assert len(changes) == len(sampled.seen.get(kind, [])) + 1, changes
    latest = changes[-1]["sampling"]
    assert (latest["from"], latest["to"]) == (_percent(before), _percent(after))
    assert (latest["to"] > latest["from"]) == (moves == "rises")
    assert sampled.runtime.rates(TYPES[kind], "production", 1) == _percent(after)  # type: ignore[arg-type]
    sampled.seen[kind] = changes


@then(
    parsers.parse(
        "the {kind}-update change is on the audit chain with {reviewed:d} reviewed and {bad:d} "
        "violations"
    )
)
def change_has_evidence(sampled: Sampled, kind: str, reviewed: int, bad: int) -> None:
    latest = sampled.seen[kind][-1]
    assert latest["subject"] == {"action_type": TYPES[kind], "risk_tier": 1}
    evidence = latest["sampling"]["evidence"]
    assert (evidence["reviewed"], evidence["violations"]) == (reviewed, bad)
    assert evidence["window_seconds"] == 30 * 86400
    # the sampled actions the verdicts stand for: each counts 1 / the rate it was picked at
    assert evidence["actions"] == pytest.approx(reviewed / latest["sampling"]["from"], abs=0.1)


@then(parsers.parse("new contact updates record a rate of {rate}"))
def new_decisions_record_the_rate(sampled: Sampled, rate: str) -> None:
    decided = sampled.client.post(
        "/v1/decisions", json=PROPOSALS["contact"], headers=sampled.agent
    ).json()
    assert decided["sample"]["rate"] == _percent(rate)


@then("the review load is at most half of the sampled actions")
def load_within_the_authors(sampled: Sampled) -> None:
    # as many contact updates as stage updates were sampled: the mean of the rates is the load
    rates = [sampled.runtime.rates(t, "production", 1) for t in TYPES.values()]  # type: ignore[arg-type]
    assert sum(rates) / len(rates) <= 0.5


@then(parsers.parse("every rate stayed between {low} and {high}"))
def within_bounds(sampled: Sampled, low: str, high: str) -> None:
    for changes in sampled.seen.values():
        for change in changes:
            assert _percent(low) <= change["sampling"]["to"] <= _percent(high)
            assert change["sampling"]["bounds"] == BOUNDS
