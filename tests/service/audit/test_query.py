"""Auditors' queries and exports: every filter, the rule index, cursors that hold while events
arrive, NDJSON shaped like OPA's decision logs, and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.cli.main import app as cli
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, REFUND, RULES, bearer

DRAFT: dict[str, Any] = {"action": {"type": "email.customer.draft", "environment": "sandbox"}}


@dataclass
class Audited:
    """A gateway with three decisions by two agents, and an auditor's key."""

    client: TestClient
    first_agent: str
    agent_key: str
    auditor: dict[str, str]
    settings: Settings

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, **kwargs)


@pytest.fixture
def audited(database_url: str) -> Iterator[Audited]:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        first, first_key = create_key(runtime.database, name="a1", role=Role.AGENT, scopes=["*"])
        _, second_key = create_key(runtime.database, name="a2", role=Role.AGENT, scopes=["*"])
        for key, body in ((first_key, REFUND), (first_key, DRAFT), (second_key, DRAFT)):
            client.post("/v1/decisions", json=body, headers={"Authorization": f"Bearer {key}"})
        yield Audited(client, first.id, first_key, bearer(runtime, Role.AUDITOR), settings)


def _events(client: Audited, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/v1/audit/events", params=params, headers=client.auditor)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


def test_each_filter_finds_what_it_names(audited: Audited) -> None:
    # seq 1 records the pack's activation, 2 and 3 the agents' keys; the decisions are 4, 5
    # and 6; 7 is the auditor's key.
    assert [e["kind"] for e in _events(audited)] == [
        "rule_pack_activated",
        *["key_created"] * 2,
        *["decision"] * 3,
        "key_created",
    ]
    assert [e["seq"] for e in _events(audited, agent_id=audited.first_agent)] == [4, 5]
    assert [e["seq"] for e in _events(audited, action_type="email.customer.draft")] == [5, 6]
    assert [e["seq"] for e in _events(audited, outcome="route_to_human")] == [4]
    assert [e["seq"] for e in _events(audited, rule="money.irreversible_over_limit")] == [4]
    assert [e["seq"] for e in _events(audited, risk_tier=0)] == [5, 6]
    assert [e["seq"] for e in _events(audited, work_item="WI-1")] == [4]
    assert [e["seq"] for e in _events(audited, queue="finance-approvers")] == [4]
    revision = _events(audited, kind="decision")[0]["event"]["decision"]["policy"]["revision"]
    assert len(_events(audited, policy_revision=revision)) == 4  # with the activation
    assert _events(audited, policy_revision="sha256:other") == []
    assert len(_events(audited, since="2000-01-01T00:00:00Z", until="2100-01-01T00:00:00Z")) == 7
    assert _events(audited, until="2000-01-01T00:00:00Z") == []


def test_review_steps_are_found_by_the_action_they_concern(audited: Audited) -> None:
    refund = _events(audited, outcome="route_to_human")[0]
    runtime = audited.client.app.state.runtime  # type: ignore[attr-defined]
    reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
    review_id = refund["event"]["decision"]["review"]["id"]
    audited.post(f"/v1/reviews/{review_id}/approve", json={}, headers=reviewer)
    steps = _events(audited, decision_id=refund["decision_id"])
    assert [e["kind"] for e in steps] == ["decision", "review_approved"]
    assert [e["kind"] for e in _events(audited, queue="finance-approvers")] == [
        "decision",
        "review_approved",
    ]
    assert _events(audited, kind="review_approved")[0]["event"]["subject"]["action_type"] == (
        "payments.refund.issue"
    )


def test_a_cursor_holds_while_new_events_arrive(audited: Audited) -> None:
    agent = {"Authorization": f"Bearer {audited.agent_key}"}
    seen: list[int] = []
    page = audited.get("/v1/audit/events", params={"limit": 2}, headers=audited.auditor).json()
    seen += [e["seq"] for e in page["events"]]
    for _ in range(3):  # new events land between the pages
        audited.post("/v1/decisions", json=DRAFT, headers=agent)
    while page["more"]:
        page = audited.get(
            "/v1/audit/events",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=audited.auditor,
        ).json()
        seen += [e["seq"] for e in page["events"]]
    assert seen == list(range(1, 11))  # seven before, three while paging
    audited.post("/v1/decisions", json=DRAFT, headers=agent)
    later = audited.get(
        "/v1/audit/events", params={"cursor": page["next_cursor"]}, headers=audited.auditor
    ).json()
    assert [e["seq"] for e in later["events"]] == [11]  # a tailing auditor picks up from there


def test_bad_cursors_and_roles_are_refused(audited: Audited) -> None:
    bad = audited.get("/v1/audit/events", params={"cursor": "nope"}, headers=audited.auditor)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")
    agent = {"Authorization": f"Bearer {audited.agent_key}"}
    assert audited.get("/v1/audit/events", headers=agent).status_code == 403


def test_the_cli_prints_ndjson(audited: Audited, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", audited.settings.database_url)
    printed = CliRunner().invoke(
        cli, ["audit", "query", "--filter", "action_type=email.customer.draft"]
    )
    assert printed.exit_code == 0, printed.output
    assert [json.loads(line)["seq"] for line in printed.output.splitlines()] == [5, 6]


def test_ndjson_export_is_shaped_like_opa_decision_logs(audited: Audited) -> None:
    runtime = audited.client.app.state.runtime  # type: ignore[attr-defined]
    reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
    refund = _events(audited, outcome="route_to_human")[0]
    audited.post(
        f"/v1/reviews/{refund['event']['decision']['review']['id']}/approve",
        json={},
        headers=reviewer,
    )
    answer = audited.get("/v1/audit/export.ndjson", headers=audited.auditor)
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert len(lines) == 3  # one per decision; review steps are not decisions
    first = lines[0]
    assert set(first) >= {
        "decision_id",
        "path",
        "input",
        "result",
        "bundles",
        "timestamp",
        "labels",
        "erased",
    }
    assert first["bundles"]["sluicegate"]["revision"] == first["result"]["policy"]["revision"]
    assert first["input"]["action"]["type"] == "payments.refund.issue"
    assert first["labels"]["agent_id"] == audited.first_agent
    drafts = audited.get(
        "/v1/audit/export.ndjson",
        params={"action_type": "email.customer.draft"},
        headers=audited.auditor,
    )
    assert len(drafts.text.splitlines()) == 2


def test_csv_export_and_the_cli(audited: Audited, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = audited.get("/v1/audit/export.csv", headers=audited.auditor)
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["outcome"] for r in rows] == ["route_to_human", "allow", "allow"]
    assert rows[0]["rules"].count("money.irreversible_over_limit") == 1
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", audited.settings.database_url)
    printed = CliRunner().invoke(
        cli, ["audit", "export", "--format", "csv", "--filter", "outcome=allow"]
    )
    assert printed.exit_code == 0, printed.output
    assert len(list(csv.DictReader(io.StringIO(printed.output)))) == 2
    wrong = CliRunner().invoke(cli, ["audit", "export", "--filter", "colour=red"])
    assert wrong.exit_code == 2


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("work_item", FORMULAS)
def test_csv_cells_that_start_like_formulas_are_shown_not_run(
    audited: Audited, work_item: str
) -> None:
    body = DRAFT | {"work_item": {"id": work_item, "type": "t"}}
    headers = {"Authorization": f"Bearer {audited.agent_key}"}
    assert audited.post("/v1/decisions", json=body, headers=headers).status_code == 201
    wanted = {"work_item": work_item}
    csv_text = audited.get("/v1/audit/export.csv", params=wanted, headers=audited.auditor).text
    (row,) = list(csv.DictReader(io.StringIO(csv_text)))
    assert row["work_item"] == "'" + work_item  # a spreadsheet shows it as text
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    ndjson = audited.get("/v1/audit/export.ndjson", params=wanted, headers=audited.auditor).text
    (line,) = ndjson.splitlines()
    assert json.loads(line)["input"]["work_item"]["id"] == work_item  # NDJSON: as recorded


def test_keys_and_pack_activation_are_on_the_chain(
    audited: Audited, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", audited.settings.database_url)
    revoked = CliRunner().invoke(cli, ["keys", "revoke", "--name", "a2"])
    assert revoked.exit_code == 0, revoked.output
    created = _events(audited, kind="key_created")
    assert [e["event"]["principal"]["name"][:7] for e in created] == ["a1", "a2", "test-au"]
    assert all(e["event"]["principal"]["new"] for e in created)
    assert all("key_hash" not in e["event"]["key"] for e in created)  # never the secret
    (gone,) = _events(audited, kind="key_revoked")
    assert gone["event"]["key"]["id"] == created[1]["event"]["key"]["id"]
    assert gone["event"]["key"]["principal_id"] == created[1]["event"]["principal"]["id"]
    (activated,) = _events(audited, kind="rule_pack_activated")
    revision = _events(audited, kind="decision")[0]["event"]["decision"]["policy"]["revision"]
    assert activated["event"]["pack"]["revision"] == revision


@pytest.mark.parametrize("moment", ["0.5", "1700000000", "2026-11-29", "2026-11-29T10:00:00"])
def test_time_parameters_are_rfc_3339_only(audited: Audited, moment: str) -> None:
    runtime = audited.client.app.state.runtime  # type: ignore[attr-defined]
    auditor = bearer(runtime, Role.AUDITOR)
    for path in ("/v1/audit/events", "/v1/analytics/throughput"):
        answer = audited.client.get(path, params={"until": moment}, headers=auditor)
        assert answer.status_code == 422, (path, answer.text)
        assert "RFC 3339" in answer.text
    fine = audited.client.get(
        "/v1/audit/events", params={"until": "2100-01-01T00:00:00+01:00"}, headers=auditor
    )
    assert fine.status_code == 200
