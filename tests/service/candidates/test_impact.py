"""Impact replays: what cannot be replayed is counted and listed, never guessed; budgets are
simulated for the candidate; the CLI prints the same report."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update
from typer.testing import CliRunner

from policy.proposal import Proposal
from service.audit.tables import AUDIT_EVENTS
from service.auth.keys import create_key
from service.auth.principals import Principal
from service.auth.roles import Role
from service.candidates.impact import replay_impact
from service.cli.main import app
from service.decisions.outcomes import OutcomeReport, report_outcome
from service.engines import replay_gate
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import writing
from service.store.utc import utc_now
from tests.fixtures import AUDIT_KEY, RULES

READS_THE_MASKED_LABEL = '''
from policy.rule_api import Outcome, RuleInput, Verdict, rule


@rule("crm.no_outside_email")
def no_outside_email(given: RuleInput) -> Verdict | None:
    """Deny contact changes for customers whose email is outside the company."""
    email = given.proposal.labels.get("customer_email", "")
    if email and not email.endswith("@example.com"):
        return Verdict(outcome=Outcome.DENY, message="outside email")
    return None
'''


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    built = Runtime(Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES))
    yield built
    built.close()


def _decide(runtime: Runtime, agent: Principal, body: dict[str, Any]) -> None:
    asyncio.run(runtime.decider.decide(Proposal.model_validate(body), agent))


def _candidate(tmp_path: Path, change: Any) -> Path:
    pack = tmp_path / "candidate"
    shutil.copytree(RULES, pack)
    change(pack)
    return pack


def _report(runtime: Runtime, candidate: Path) -> Any:
    from policy.rule_pack import load_rule_pack

    active = replay_gate(runtime.settings, runtime.pack)
    proposed = replay_gate(runtime.settings, load_rule_pack(candidate))
    try:
        now = utc_now()
        return replay_impact(
            runtime.database, active, proposed, since=now - timedelta(hours=1), until=now
        )
    finally:
        active.close()
        proposed.close()


CONTACT = {
    "action": {"type": "crm.contact.update", "environment": "production"},
    "changes": [{"record": "contact-7", "field": "phone", "from": "1", "to": "2"}],
    "justification": "fix a typo",
    "confidence": 0.9,
    "labels": {"customer_email": "bo@elsewhere.org"},
}


def test_a_candidate_that_reads_a_masked_value_makes_its_decisions_unreplayable(
    runtime: Runtime, tmp_path: Path
) -> None:
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    _decide(runtime, agent, CONTACT)
    _decide(runtime, agent, CONTACT | {"labels": {}})  # nothing masked: replayable
    candidate = _candidate(
        tmp_path, lambda pack: (pack / "python" / "outside.py").write_text(READS_THE_MASKED_LABEL)
    )
    report = _report(runtime, candidate)
    assert (report.replayed, report.unreplayable) == (1, 1), report.unreplayable_examples
    assert "masked" in report.unreplayable_examples[0].why
    assert report.fidelity.same == report.fidelity.replayed == 1


def test_events_recorded_before_the_scopes_were_kept_are_unreplayable(
    runtime: Runtime, tmp_path: Path
) -> None:
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    _decide(runtime, agent, CONTACT | {"labels": {}})
    with writing(runtime.database) as connection:
        seq, raw = connection.execute(
            select(AUDIT_EVENTS.c.seq, AUDIT_EVENTS.c.event).where(
                AUDIT_EVENTS.c.kind == "decision"
            )
        ).one()
        event = json.loads(raw)
        del event["agent"]["scopes"]
        connection.execute(
            update(AUDIT_EVENTS).where(AUDIT_EVENTS.c.seq == seq).values(event=json.dumps(event))
        )
    report = _report(runtime, _candidate(tmp_path, lambda _: None))
    assert report.unreplayable == 1
    assert report.unreplayable_examples[0].why == "recorded before the log kept the key's scopes"


def test_the_candidates_budgets_are_counted_in_order(runtime: Runtime, tmp_path: Path) -> None:
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    for value in (400, 400, 400):
        _decide(runtime, agent, {
            "action": {"type": "billing.invoice.adjust", "environment": "production",
                       "amount": {"value": value, "currency": "USD"}},
            "work_item": {"id": "WI-1"}, "justification": "credit", "confidence": 0.9,
        })  # fmt: skip

    def tighter(pack: Path) -> None:
        budgets_file = pack / "data" / "budgets.yaml"
        budgets = yaml.safe_load(budgets_file.read_text())
        budgets["invoice-credits-per-agent"]["limit"] = {"USD": 1000}
        budgets_file.write_text(yaml.safe_dump(budgets))

    report = _report(runtime, _candidate(tmp_path, tighter))
    assert report.budgets == {"invoice-credits-per-agent": 1, "customer-emails-per-agent": 0}


def test_the_cli_prints_the_report(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    _decide(runtime, agent, CONTACT | {"labels": {}})
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", runtime.settings.database_url)
    candidate = _candidate(tmp_path, lambda _: None)
    as_json = CliRunner().invoke(
        app, ["rules", "impact", "--candidate", str(candidate), "--format", "json"]
    )
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["replayed"] == 1
    assert report["fidelity"] == {"replayed": 1, "same": 1, "differing": []}
    assert set(report) >= {"changed", "unreplayable", "transitions", "queues", "examples"}
    as_text = CliRunner().invoke(app, ["rules", "impact", "--candidate", str(candidate)])
    assert "fidelity: the active pack reproduced 1 of 1" in as_text.output
    broken = CliRunner().invoke(app, ["rules", "impact", "--candidate", str(tmp_path / "nothing")])
    assert broken.exit_code == 2


def test_a_replay_gives_a_failed_actions_share_back_as_the_store_does(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A share reported failed comes back only once its permit expired, in a replay too."""
    agent, _ = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    credit = {
        "action": {"type": "billing.invoice.adjust", "environment": "production",
                   "amount": {"value": 600, "currency": "USD"}},
        "work_item": {"id": "WI-1"}, "justification": "credit", "confidence": 0.9,
    }  # fmt: skip
    first = asyncio.run(runtime.decider.decide(Proposal.model_validate(credit), agent))
    report_outcome(
        runtime.database,
        runtime.pack,
        agent,
        first.decision_id,
        OutcomeReport.model_validate({"status": "failed"}),
        permits=runtime.permits,
    )
    _decide(runtime, agent, credit)

    def tighter(pack: Path) -> None:
        budgets_file = pack / "data" / "budgets.yaml"
        budgets = yaml.safe_load(budgets_file.read_text())
        budgets["invoice-credits-per-agent"]["limit"] = {"USD": 1000}
        budgets_file.write_text(yaml.safe_dump(budgets))

    candidate = _candidate(tmp_path, tighter)
    # The second credit came seconds after the first: the failed one's permit still held.
    assert _report(runtime, candidate).budgets["invoice-credits-per-agent"] == 1
    with writing(runtime.database) as connection:  # as if the first came ten minutes earlier
        connection.execute(
            update(AUDIT_EVENTS)
            .where(AUDIT_EVENTS.c.decision_id == first.decision_id)
            .values(recorded_at=utc_now() - timedelta(minutes=10))
        )
    assert _report(runtime, candidate).budgets["invoice-credits-per-agent"] == 0
