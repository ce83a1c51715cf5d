"""The `sluicegate` command: serve, create keys, check a proposal offline, test the rule pack."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from policy.context import Agent
from policy.errors import PolicyError
from policy.golden_cases import load_cases, mismatches
from policy.opa_tooling import opa_checks
from policy.proposal import Proposal
from policy.rego_testing import run_rego_tests
from policy.rule_pack import load_rule_pack
from service.app import create_app
from service.auth.principals import (
    Role,
    count_principals,
    create_key,
    principal_named,
    revoke_key,
)
from service.cli.audit import audit
from service.runtime import build_gate
from service.settings import Settings
from service.store.database import database_engine, migrate

app = typer.Typer(help="Sluicegate: a policy gate for AI agent actions.", no_args_is_help=True)
keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
rules = typer.Typer(help="Work on the rule pack.", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(rules, name="rules")
app.add_typer(audit, name="audit")

RulesOption = Annotated[Path | None, typer.Option("--rules", help="Rule pack directory.")]


def _settings(rules_dir: Path | None = None) -> Settings:
    try:
        return Settings(rules=rules_dir) if rules_dir else Settings()
    except ValidationError as exc:
        typer.echo(f"invalid settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    rules_dir: RulesOption = None,
) -> None:
    """Run the gateway."""
    settings = _settings(rules_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    database = database_engine(settings.database_url)
    migrate(database)
    if count_principals(database) == 0:
        typer.echo(
            "\nNo API keys yet. Create an agent key in another terminal:\n"
            "  .venv/bin/sluicegate keys create --role agent --name demo-agent --scope '*'\n"
            "then ask the gate (see README, 'Five-minute tour').\n"
        )
    database.dispose()
    typer.echo(f"Sluicegate on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


@keys.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    name: Annotated[str, typer.Option(help="Who holds the key (an agent's or a person's name).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Action types an agent key may propose (glob, repeatable), e.g. 'crm.*'; "
            "for a reviewer, the groups it belongs to, e.g. 'group:finance-approvers'."
        ),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(help="An agent's accountable owner (a principal's name): never its reviewer."),
    ] = None,
) -> None:
    """Create a key; its secret is printed once, as the last line."""
    scopes = scope or []
    if role is Role.AGENT and not scopes:
        typer.echo(
            "an agent key needs at least one --scope (use '*' for every action type)", err=True
        )
        raise typer.Exit(2)
    settings = _settings()
    database = database_engine(settings.database_url)
    migrate(database)
    try:
        owner_id = principal_named(database, owner) if owner else None
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    principal, secret = create_key(database, name=name, role=role, scopes=scopes, owner_id=owner_id)
    database.dispose()
    typer.echo(f"created {role.value} key for {name!r} (id {principal.id}, scopes {scopes})")
    typer.echo("store it now; it is not shown again:")
    typer.echo(secret)


@keys.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Option(help="Whose key to revoke (a principal's name).")],
) -> None:
    """Revoke a key: it stops working within SLUICEGATE_AUTH_CACHE_SECONDS; recorded on the
    audit chain."""
    database = database_engine(_settings().database_url)
    migrate(database)
    try:
        revoke_key(database, principal_named(database, name))
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    typer.echo(f"revoked the key of {name!r}")


@app.command()
def check(
    proposal_file: Annotated[Path, typer.Argument(help="A proposal as JSON.")],
    scope: Annotated[list[str] | None, typer.Option(help="The agent's scopes.")] = None,
    rules_dir: RulesOption = None,
) -> None:
    """Decide a proposal offline against the rule pack (no server, nothing recorded)."""
    settings = _settings(rules_dir)
    try:
        proposal = Proposal.model_validate_json(proposal_file.read_bytes())
    except (OSError, ValidationError) as exc:
        typer.echo(f"cannot read the proposal: {exc}", err=True)
        raise typer.Exit(2) from exc
    gate = build_gate(settings, load_rule_pack(settings.rules))
    try:
        decision = gate.decide(
            proposal, Agent(id="offline", name="offline", scopes=tuple(scope or ["*"]))
        )
    finally:
        gate.close()
    typer.echo(f"outcome: {decision.outcome.value}")
    typer.echo(f"risk tier: {decision.risk_tier} ({decision.reversibility.value})")
    if decision.fail_closed:
        typer.echo(
            f"fail closed: {decision.fail_closed.cause.value} — {decision.fail_closed.detail}"
        )
    if decision.review:
        typer.echo(
            f"review: queue {decision.review.queue}, on timeout {decision.review.on_timeout.value}"
        )
    if decision.sample:
        typer.echo(f"sample: rate {decision.sample.rate:g}, selected {decision.sample.selected}")
    for reason in decision.reasons:
        typer.echo(f"  - {reason.rule}: {reason.outcome.value} — {reason.message}")


@rules.command("test")
def rules_test(
    rules_dir: RulesOption = None,
    opa: Annotated[
        str, typer.Option(help="The opa binary for fmt, check --strict and test --coverage.")
    ] = "opa",
    require_opa: Annotated[
        bool, typer.Option(help="Fail, rather than skip the OPA checks, when opa is missing.")
    ] = False,
    min_coverage: Annotated[
        float, typer.Option(help="The least percent of Rego lines the tests must cover.")
    ] = 90.0,
) -> None:
    """Run the pack's Rego tests on both engines, OPA's format and strict checks, coverage, and
    the golden cases; exit 1 on any failure."""
    settings = _settings(rules_dir)
    try:
        pack = load_rule_pack(settings.rules)
        cases = load_cases(pack.cases_dir)
    except PolicyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    failed = 0
    for result in run_rego_tests(pack):
        failed += not result.passed
        typer.echo(f"{'PASS' if result.passed else 'FAIL'} rego {result.name} {result.detail}")
    opa_path = shutil.which(opa)
    if opa_path is None:
        typer.echo(f"SKIP opa checks: no {opa!r} found (`make tools` builds the pinned OPA)")
        failed += require_opa
    else:
        for check in opa_checks(pack, opa_path, min_coverage=min_coverage):
            failed += not check.passed
            detail = check.detail if not check.passed or "covered" in check.detail else ""
            typer.echo(f"{'PASS' if check.passed else 'FAIL'} {check.name} {detail}".rstrip())
    gate = build_gate(settings, pack)
    try:
        for case in cases:
            agent = Agent(id="golden", name="golden", scopes=tuple(case.scopes))
            problems = mismatches(case, gate.decide(case.proposal, agent))
            failed += bool(problems)
            typer.echo(f"{'FAIL' if problems else 'PASS'} case {case.note} {'; '.join(problems)}")
    finally:
        gate.close()
    typer.echo(json.dumps({"revision": pack.revision, "failed": failed}))
    if failed:
        raise typer.Exit(1)
