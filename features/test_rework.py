"""Runs features/rework.feature over HTTP, against a gateway in process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, REFUND, RULES, RegoBackend

# On both stores: the fixture's store parameter must be known when the scenarios are collected.
pytestmark = pytest.mark.usefixtures("desk")
scenarios("rework.feature")


@pytest.fixture
def rego_backend() -> RegoBackend:
    return RegoBackend("rego-embedded")  # causes and rework are the store's, not the rules'


@dataclass
class Desk:
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    answer: Any = None  # the TestClient's response
    report: dict[str, Any] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def propose(self, work_item: str, who: str = "agent", **extra: Any) -> Any:
        body = REFUND | {"work_item": {"id": work_item, "type": "billing-dispute"}} | extra
        return self.client.post("/v1/decisions", json=body, headers=self.as_(who))

    def routed(self, work_item: str, **extra: Any) -> dict[str, Any]:
        answer = self.propose(work_item, **extra)
        assert answer.status_code == 201, answer.text
        decided: dict[str, Any] = answer.json()
        assert decided["outcome"] == "route_to_human"
        return decided

    def review(self, decided: dict[str, Any], step: str, **body: Any) -> None:
        answer = self.client.post(
            f"/v1/reviews/{decided['review']['id']}/{step}", json=body, headers=self.as_("lead")
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    settings = Settings(
        database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES, ui_cookie_secure=False
    )
    with TestClient(create_app(settings)) as client:
        yield Desk(client)


@given("a running gateway with an agent, a finance approver and an auditor")
def people(desk: Desk) -> None:
    database = desk.client.app.state.runtime.database  # type: ignore[attr-defined]
    for who, name, role, scopes in (
        ("agent", "billing-bot", Role.AGENT, ["*"]),
        ("other", "other-bot", Role.AGENT, ["*"]),
        ("lead", "fiona", Role.REVIEWER, ["group:finance-approvers"]),
        ("auditor", "audrey", Role.AUDITOR, []),
    ):
        desk.keys[who] = create_key(database, name=name, role=role, scopes=scopes)[1]


@given("the agent asked for a refund on WI-1, rejected for an ambiguous spec")
def first_rejected(desk: Desk) -> None:
    desk.decisions["WI-1"] = desk.routed("WI-1")
    desk.review(desk.decisions["WI-1"], "reject", note="which invoice?", cause="ambiguous_spec")


@given("the agent revised it, and the revision was approved")
def revised(desk: Desk) -> None:
    revision = desk.routed("WI-1", revises=desk.decisions["WI-1"]["decision_id"])
    desk.review(revision, "approve")


@given("the agent asked for a refund on WI-2, approved, and reported it done in 1.5 s")
def approved_and_done(desk: Desk) -> None:
    decided = desk.routed("WI-2")
    desk.review(decided, "approve")
    body = REFUND | {"work_item": {"id": "WI-2", "type": "billing-dispute"}}
    used = desk.client.post(
        f"/v1/decisions/{decided['decision_id']}/proceed", json=body, headers=desk.as_("agent")
    )
    assert used.status_code == 200, used.text
    done = desk.client.post(
        f"/v1/decisions/{decided['decision_id']}/outcome",
        json={"status": "executed", "duration_ms": 1500},
        headers=desk.as_("agent"),
    )
    assert done.status_code == 200, done.text


@given("the agent asked for a refund on WI-3, rejected as a model error")
def model_error(desk: Desk) -> None:
    desk.review(desk.routed("WI-3"), "reject", note="wrong customer", cause="model_error")


@when("the auditor reads the throughput")
def read(desk: Desk) -> None:
    answer = desk.client.get("/v1/analytics/throughput", headers=desk.as_("auditor"))
    assert answer.status_code == 200, answer.text
    desk.report = answer.json()["total"]


@then(parsers.parse("the rework rate is {rate:d}%"))
def rework_rate(desk: Desk, rate: int) -> None:
    assert desk.report["rework_rate"] == rate / 100


@then(parsers.parse("accepted without rework is {rate:d}%"))
def accepted(desk: Desk, rate: int) -> None:
    assert desk.report["accepted_without_rework_rate"] == rate / 100


@then("the incidents by cause are ambiguous_spec 1 and model_error 1")
def by_cause(desk: Desk) -> None:
    assert desk.report["incidents_by_cause"] == {"ambiguous_spec": 1, "model_error": 1}
    metrics = desk.client.get("/metrics").text
    assert 'sluicegate_incidents_total{cause="ambiguous_spec"} 1.0' in metrics


@then(parsers.parse("{action_type} and {rule} are behind the ambiguous spec"))
def behind(desk: Desk, action_type: str, rule: str) -> None:
    assert desk.report["ambiguous_spec_action_types"] == {action_type: 1}
    assert rule in desk.report["ambiguous_spec_rules"]


@then(parsers.parse("the agent computed for {seconds:g} s at the median"))
def computed(desk: Desk, seconds: float) -> None:
    assert desk.report["agent_compute_p50_seconds"] == seconds


@then("the throughput page shows the same")
def page(desk: Desk) -> None:
    form = desk.client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = desk.client.post(
        "/ui/login",
        data={"key": desk.keys["auditor"], "csrf_token": token.group(1), "next": "/ui/throughput"},
    )
    assert signed_in.status_code == 200, signed_in.text
    html = desk.client.get("/ui/throughput").text
    assert re.search(r"<dt>Rework</dt><dd>25%</dd>", html)
    assert re.search(r"<dt>Accepted without rework</dt><dd>25%</dd>", html)
    assert "<dt>ambiguous spec</dt><dd>1</dd>" in html
    assert "<code>money.irreversible_over_limit</code>" in html


@when(parsers.parse("the agent revises the WI-1 decision for work item {work_item}"))
def revise_elsewhere(desk: Desk, work_item: str) -> None:
    desk.answer = desk.propose(work_item, revises=desk.decisions["WI-1"]["decision_id"])


@when("another agent revises the WI-1 decision")
def revise_as_other(desk: Desk) -> None:
    desk.answer = desk.propose("WI-1", who="other", revises=desk.decisions["WI-1"]["decision_id"])


@then("it is refused as an invalid revision")
def refused(desk: Desk) -> None:
    assert desk.answer is not None
    assert desk.answer.status_code == 422, desk.answer.text
    assert desk.answer.json()["error"]["code"] == "invalid_revision"
