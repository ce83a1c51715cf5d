"""The `sluicegate` command: keys, offline check, rule tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from service.auth.keys import KeyAuthenticator
from service.auth.roles import Role
from service.cli.main import app
from service.store.database import database_engine
from tests.opa_sidecar import opa_binary

runner = CliRunner()


def test_keys_create_prints_the_secret_last(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_url
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", url)
    result = runner.invoke(
        app, ["keys", "create", "--role", "agent", "--name", "bot", "--scope", "crm.*"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    database = database_engine(url)
    principal = KeyAuthenticator(database, ttl=0).authenticate(secret)
    database.dispose()
    assert principal is not None
    assert (principal.role, principal.scopes) == (Role.AGENT, ("crm.*",))


def test_an_agent_key_needs_a_scope(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", database_url)
    result = runner.invoke(app, ["keys", "create", "--role", "agent", "--name", "bot"])
    assert result.exit_code == 2


def test_check_decides_offline(tmp_path: Path) -> None:
    proposal = tmp_path / "p.json"
    proposal.write_text(
        json.dumps(
            {
                "action": {
                    "type": "payments.refund.issue",
                    "environment": "production",
                    "amount": {"value": 5000, "currency": "USD"},
                },
                "work_item": {"id": "WI-1"},
                "justification": "duplicate charge",
            }
        )
    )
    result = runner.invoke(app, ["check", str(proposal)])
    assert result.exit_code == 0, result.output
    assert "outcome: route_to_human" in result.output
    assert "risk tier: 3" in result.output
    assert "queue finance-approvers" in result.output


def test_check_names_the_file_and_the_field_that_is_wrong(tmp_path: Path) -> None:
    proposal = tmp_path / "refund.json"
    proposal.write_text(json.dumps({"action": {"environment": "production"}, "confidence": 2}))
    result = runner.invoke(app, ["check", str(proposal)])
    assert result.exit_code == 2
    assert f"{proposal} is not valid:" in result.output
    assert "  action.type: Field required" in result.output
    assert "  confidence: " in result.output
    assert "validation error" not in result.output  # not pydantic's raw dump


def test_rules_test_passes_on_the_default_pack() -> None:
    result = runner.invoke(app, ["rules", "test", "--opa", opa_binary()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["failed"] == 0
    for check in ("opa fmt", "opa check --strict", "opa test", "opa test --coverage"):
        assert f"PASS {check}" in result.output


def test_rules_test_fails_on_unformatted_rego(pack_copy: Path) -> None:
    (pack_copy / "rego" / "sloppy.rego").write_text("package sluicegate.rules.sloppy\nx:=1\n")
    result = runner.invoke(app, ["rules", "test", "--rules", str(pack_copy), "--opa", opa_binary()])
    assert result.exit_code == 1
    assert "FAIL opa fmt" in result.output
    assert "sloppy.rego" in result.output


def test_rules_test_fails_on_low_coverage(pack_copy: Path) -> None:
    for test_file in (pack_copy / "rego").glob("*_test.rego"):
        test_file.unlink()
    result = runner.invoke(app, ["rules", "test", "--rules", str(pack_copy), "--opa", opa_binary()])
    assert result.exit_code == 1
    assert "FAIL opa test --coverage" in result.output


def test_a_missing_opa_fails_only_when_required() -> None:
    skipped = runner.invoke(app, ["rules", "test", "--opa", "no-such-opa"])
    assert skipped.exit_code == 0
    assert "SKIP opa checks" in skipped.output
    required = runner.invoke(app, ["rules", "test", "--opa", "no-such-opa", "--require-opa"])
    assert required.exit_code == 1


def test_rules_test_fails_on_a_canary_that_would_not_reach_its_queue(pack_copy: Path) -> None:
    file = pack_copy / "data" / "canaries.yaml"
    canaries = yaml.safe_load(file.read_text())
    canaries["canaries"][1]["queue"] = "sales-ops"  # refunds go to finance-approvers
    file.write_text(yaml.safe_dump(canaries))
    result = runner.invoke(app, ["rules", "test", "--rules", str(pack_copy)])
    assert result.exit_code == 1
    assert "FAIL case canary refund-twice-for-one-charge reaches sales-ops" in result.output
    assert "PASS case canary refund-to-unknown-account" in result.output


def test_rules_test_fails_on_a_broken_case(pack_copy: Path) -> None:
    cases = pack_copy / "cases" / "default_pack.yaml"
    cases.write_text(
        cases.read_text().replace(
            "want: {outcome: allow, risk_tier: 0}", "want: {outcome: deny, risk_tier: 0}", 1
        )
    )
    result = runner.invoke(app, ["rules", "test", "--rules", str(pack_copy)])
    assert result.exit_code == 1
    assert "FAIL case" in result.output
