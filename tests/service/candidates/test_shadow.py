"""Shadow mode: a candidate decides live traffic beside the active pack, without touching
the answers; the pairs are recorded and reported; stopping it stops it everywhere."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.auth.keys import create_key
from service.auth.principals import Principal
from service.auth.roles import Role
from service.candidates.shadow import ShadowReport, shadow_report, start_run, stop_run
from service.cli.main import app
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES, pack_with_usd_limit


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    built = Runtime(Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES))
    yield built
    built.close()


@pytest.fixture
def lower_limit(tmp_path: Path) -> Path:
    return pack_with_usd_limit(tmp_path / "usd-500", 500)


def _credit(runtime: Runtime, agent: Principal, value: int) -> str:
    body = {
        "action": {"type": "billing.invoice.adjust", "environment": "production",
                   "amount": {"value": value, "currency": "USD"}},
        "work_item": {"id": "WI-1"}, "justification": "credit", "confidence": 0.9,
    }  # fmt: skip
    recorded = asyncio.run(runtime.decider.decide(Proposal.model_validate(body), agent))
    return str(json.loads(recorded.body)["outcome"])


def _report_once(runtime: Runtime, decisions: int) -> ShadowReport:
    deadline = time.monotonic() + 10
    while (found := shadow_report(runtime.database)).decisions < decisions:
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def test_the_candidate_decides_beside_the_active_pack_without_touching_answers(
    runtime: Runtime, lower_limit: Path
) -> None:
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    start_run(runtime.database, load_rule_pack(lower_limit), started_by="carla")
    runtime.shadow.follow()  # what every gateway does within shadow_tick_seconds
    assert _credit(runtime, agent, 800) == "sample"  # the candidate would route it
    assert _credit(runtime, agent, 200) == "sample"
    report = _report_once(runtime, 2)
    assert (report.decisions, report.agree, report.agreement_rate) == (2, 1, 0.5)
    assert report.transitions == {"sample->route_to_human": 1}
    assert report.by_action_type == {"billing.invoice.adjust": {"decisions": 2, "disagree": 1}}
    metrics = runtime.metrics.registry.get_sample_value
    assert metrics("sluicegate_shadow_decisions_total", {"agree": "false"}) == 1

    assert stop_run(runtime.database)
    runtime.shadow.follow()
    _credit(runtime, agent, 900)
    time.sleep(0.3)
    assert shadow_report(runtime.database).decisions == 2


def test_the_cli_starts_reports_and_stops_a_run(
    runtime: Runtime, lower_limit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", runtime.settings.database_url)
    runner = CliRunner()
    started = runner.invoke(app, ["rules", "shadow", str(lower_limit)])
    assert started.exit_code == 0, started.output
    runtime.shadow.follow()
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    _credit(runtime, agent, 800)
    _report_once(runtime, 1)
    as_json: Any = json.loads(
        runner.invoke(app, ["rules", "shadow", "--report", "--format", "json"]).output
    )
    assert as_json["agreement_rate"] == 0.0
    assert as_json["run"]["started_by"] == "cli"
    assert runner.invoke(app, ["rules", "shadow", "--stop"]).output.strip() == "stopped"
    assert runner.invoke(app, ["rules", "shadow"]).exit_code == 2
