"""`sluicegate rules test`: the pack's Rego tests, OPA's checks and the golden cases."""

from __future__ import annotations

import json
import shutil
from typing import Annotated

import typer

from service.cli.common import RulesOption, load_settings

rules = typer.Typer(help="Work on the rule pack.", no_args_is_help=True, rich_markup_mode=None)


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
    """Run the pack's Rego tests on both backends, OPA's format and strict checks, coverage,
    and the golden cases; exit 1 on any failure."""
    from policy.context import Agent
    from policy.errors import PolicyError
    from policy.golden_cases import load_cases, mismatches
    from policy.opa_tooling import opa_checks
    from policy.rego_testing import run_rego_tests
    from policy.rule_pack import load_rule_pack
    from service.runtime import build_gate

    settings = load_settings(rules_dir)
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
