"""`rules activate`: no pack goes live without an impact report against the log, unless
forced; the activation's audit event says which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from service.audit.tables import AUDIT_EVENTS
from service.cli.main import app
from service.store.database import database_engine
from tests.fixtures import AUDIT_KEY, RULES, pack_with_usd_limit

runner = CliRunner()


@pytest.fixture
def owned_rules(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    monkeypatch.setenv("SLUICEGATE_RULES", str(rules))
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("SLUICEGATE_AUDIT_SIGNING_KEY", AUDIT_KEY.get_secret_value())
    # The gateway's start records the pack it decides with; `keys list` opens the store.
    assert runner.invoke(app, ["keys", "list"]).exit_code == 0
    return rules


def _candidate(tmp_path: Path) -> Path:
    return pack_with_usd_limit(tmp_path / "candidate", 500)


def _activations(database_url: str) -> list[dict[str, object]]:
    engine = database_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENTS.c.event).where(AUDIT_EVENTS.c.kind == "rule_pack_activated")
        ).all()
    engine.dispose()
    return [json.loads(raw)["pack"] for (raw,) in rows]


def test_a_pack_goes_live_only_after_its_impact_was_computed(
    tmp_path: Path, database_url: str, owned_rules: Path
) -> None:
    candidate = _candidate(tmp_path)
    refused = runner.invoke(app, ["rules", "activate", str(candidate)])
    assert refused.exit_code == 2
    assert "run `sluicegate rules impact" in refused.output
    assert "USD: 1000" in (owned_rules / "data" / "limits.yaml").read_text()

    impact = runner.invoke(app, ["rules", "impact", "--candidate", str(candidate)])
    assert impact.exit_code == 0, impact.output
    done = runner.invoke(app, ["rules", "activate", str(candidate)])
    assert done.exit_code == 0, done.output
    assert "USD: 500" in (owned_rules / "data" / "limits.yaml").read_text()
    assert "USD: 1000" in (tmp_path / "rules.previous" / "data" / "limits.yaml").read_text()
    last = _activations(database_url)[-1]
    assert last["forced"] is False
    assert isinstance(last["impact"], dict)
    assert {"replayed", "changed", "fidelity", "transitions"} <= set(last["impact"])


def test_forcing_is_recorded(tmp_path: Path, database_url: str, owned_rules: Path) -> None:
    done = runner.invoke(app, ["rules", "activate", str(_candidate(tmp_path)), "--force"])
    assert done.exit_code == 0, done.output
    last = _activations(database_url)[-1]
    assert last["forced"] is True
    assert last["impact"] is None


def test_the_bundled_pack_is_never_overwritten(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SLUICEGATE_RULES", raising=False)
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'gate.db'}")
    refused = runner.invoke(app, ["rules", "activate", str(_candidate(tmp_path)), "--force"])
    assert refused.exit_code == 2
    assert "bundled pack" in refused.output
