"""`sluicegate rules test`: the pack's Rego tests, OPA's checks and the golden cases."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import RulesOption, load_settings, opened_store

if TYPE_CHECKING:
    from policy.rule_pack import RulePack
    from service.candidates.impact import ImpactReport

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
    the golden cases and the canaries; exit 1 on any failure."""
    from policy.context import Agent
    from policy.errors import PolicyError
    from policy.golden_cases import canary_cases, load_cases, mismatches
    from policy.opa_tooling import opa_checks
    from policy.rego_testing import run_rego_tests
    from policy.rule_pack import load_rule_pack
    from service.engines import build_gate

    settings = load_settings(rules_dir)
    try:
        pack = load_rule_pack(settings.rules)
        cases = load_cases(pack.cases_dir) + canary_cases(pack.data.canaries)
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


class ReportFormat(StrEnum):
    """How `rules impact` prints."""

    TEXT = "text"
    JSON = "json"


@rules.command("impact")
def rules_impact(
    candidate: Annotated[Path, typer.Option(help="The candidate rule pack's folder.")],
    since: Annotated[
        datetime | None, typer.Option(help="From this time (UTC); default: 7 days before --until.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Up to this time (UTC); default: now.")
    ] = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="text or json.")
    ] = ReportFormat.TEXT,
    rules_dir: RulesOption = None,
) -> None:
    """Replay the recorded decisions of a window with the candidate pack and with the active
    one (both on the embedded engine): what would change, for which rules, action types and
    queues, and how often each budget would be hit (docs/authors.md)."""
    from service.candidates.impact import impact_of
    from service.store.utc import as_utc, utc_now

    settings = load_settings(rules_dir)
    active, proposed = _pack(settings.rules), _pack(candidate)
    with opened_store() as database:
        report = impact_of(
            database,
            settings,
            active=active,
            candidate=proposed,
            since=as_utc(since) if since else None,
            until=as_utc(until) if until else utc_now(),
        )
    if output is ReportFormat.JSON:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
        return
    typer.echo(impact_text(report))


def impact_text(report: ImpactReport) -> str:
    """The report as lines a person reads."""
    fidelity = report.fidelity
    lines = [
        f"window {report.since.isoformat()} .. {report.until.isoformat()}",
        f"replayed {report.replayed}, changed {report.changed}, unreplayable {report.unreplayable}",
        f"fidelity: the active pack reproduced {fidelity.same} of {fidelity.replayed}",
    ]
    lines += [f"  {move}: {count}" for move, count in report.transitions.items()]
    if report.rules:
        lines.append(
            "rules behind the changes: " + ", ".join(f"{r} ({n})" for r, n in report.rules.items())
        )
    for name, queue in report.queues.items():
        holds = "holds" if queue.sla_holds else "would NOT hold"
        lines.append(
            f"queue {name}: {queue.extra_per_day:+.1f}/day on {queue.routed_per_day:.1f}/day, "
            f"resolves {queue.resolved_per_day:.1f}/day: SLA {holds}"
        )
    lines += [f"budget {name}: hit {hits} times" for name, hits in report.budgets.items()]
    lines += [
        f"  e.g. {e.decision_id}: {e.from_} -> {e.to} ({e.action_type})"
        for e in report.examples[:5]
    ]
    lines += [f"  unreplayable {u.decision_id}: {u.why}" for u in report.unreplayable_examples[:5]]
    return "\n".join(lines)


@rules.command("activate")
def rules_activate(
    candidate: Annotated[Path, typer.Argument(help="The rule pack folder to activate.")],
    force: Annotated[
        bool, typer.Option(help="Activate without a recent impact report (recorded as forced).")
    ] = False,
    max_age_hours: Annotated[
        float, typer.Option(help="How old the impact report may be, in hours.")
    ] = 24.0,
) -> None:
    """Install a candidate pack as SLUICEGATE_RULES, once its impact was computed against the
    log (`rules impact`) with the pack active now; gateways decide with it from their next
    start. The activation's audit event carries the impact summary it checked."""
    from policy.rule_pack import load_rule_pack
    from service.audit.pack_activation import recent_impact, record_activation
    from service.settings import bundled_rules
    from service.store.utc import utc_now

    settings = load_settings()
    if settings.rules.resolve() == bundled_rules().resolve():
        typer.echo(
            "SLUICEGATE_RULES is the bundled pack: point it at a folder of your own first",
            err=True,
        )
        raise typer.Exit(2)
    pack = _pack(candidate)
    # The pack gateways decide with now: the one an impact report must have replayed.
    active = _pack(settings.rules).revision if settings.rules.exists() else None
    with opened_store() as database:
        impact = recent_impact(
            database,
            candidate=pack.revision,
            active=active,
            now=utc_now(),
            within=timedelta(hours=max_age_hours),
        )
        if impact is None and not force:
            typer.echo(
                f"no impact report for {pack.revision} against the active pack ({active}) in "
                f"the last {max_age_hours:g} h: run `sluicegate rules impact --candidate "
                f"{candidate}` first, or pass --force",
                err=True,
            )
            raise typer.Exit(2)
        _install(candidate, settings.rules)
        installed = load_rule_pack(settings.rules)
        record_activation(
            database,
            installed,
            rego_backend=settings.rego_backend,
            impact=impact,
            forced=impact is None,
        )
    typer.echo(f"activated {installed.revision} in {settings.rules}; restart the gateways")


def _install(candidate: Path, target: Path) -> None:
    """Replace the target folder with a copy of the candidate, keeping the one it replaces
    as `<target>.previous`; a rename, so a gateway starting meanwhile reads one or the other."""
    incoming = target.with_name(target.name + ".incoming")
    previous = target.with_name(target.name + ".previous")
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.copytree(candidate, incoming, ignore=shutil.ignore_patterns("__pycache__"))
    if target.exists():
        shutil.rmtree(previous, ignore_errors=True)
        target.rename(previous)
    incoming.rename(target)


@rules.command("shadow")
def rules_shadow(
    candidate: Annotated[
        Path | None, typer.Argument(help="The candidate rule pack's folder to shadow.")
    ] = None,
    stop: Annotated[bool, typer.Option(help="Stop the run in progress.")] = False,
    report: Annotated[bool, typer.Option(help="Print the latest run's agreement.")] = False,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="text or json.")
    ] = ReportFormat.TEXT,
) -> None:
    """Shadow a candidate on live traffic: every gateway also decides each proposal with it
    (no effect on the answers) and records whether it agreed; `--report` prints how often,
    `--stop` ends it. Gateways load the folder by its path: it must be readable where they
    run."""
    from service.candidates.shadow import shadow_report, start_run, stop_run

    if sum((candidate is not None, stop, report)) != 1:
        typer.echo("give a candidate folder, --stop or --report", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        if stop:
            typer.echo("stopped" if stop_run(database) else "no shadow run in progress")
            return
        if report:
            found = shadow_report(database)
            if output is ReportFormat.JSON:
                typer.echo(found.model_dump_json(indent=2))
                return
            rate = "—" if found.agreement_rate is None else f"{found.agreement_rate:.1%}"
            run_id = found.run.id if found.run else "—"
            typer.echo(f"run {run_id}: {found.agree} of {found.decisions} agree ({rate})")
            for move, count in found.transitions.items():
                typer.echo(f"  {move}: {count}")
            return
        assert candidate is not None
        run = start_run(database, _pack(candidate), started_by="cli")
    typer.echo(
        f"shadowing {run.revision} from {run.path} (run {run.id}); gateways follow within seconds"
    )


def _pack(folder: Path) -> RulePack:
    """The rule pack in `folder`; exit 2 saying what is wrong with it."""
    from policy.errors import PolicyError
    from policy.rule_pack import load_rule_pack

    try:
        return load_rule_pack(folder)
    except PolicyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
