"""`sluicegate check FILE`: decide a proposal offline against the rule pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import RulesOption, load_settings, problems


def check(
    proposal_file: Annotated[Path, typer.Argument(help="A proposal as JSON.")],
    scope: Annotated[list[str] | None, typer.Option(help="The agent's scopes.")] = None,
    rules_dir: RulesOption = None,
) -> None:
    """Decide a proposal offline against the rule pack (no server, nothing recorded)."""
    from pydantic import ValidationError

    from policy.context import Agent
    from policy.proposal import Proposal
    from policy.rule_pack import load_rule_pack
    from service.engines import build_gate

    settings = load_settings(rules_dir)
    try:
        proposal = Proposal.model_validate_json(proposal_file.read_bytes())
    except OSError as exc:
        typer.echo(f"cannot read {proposal_file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    except ValidationError as exc:
        typer.echo(problems(exc, source=str(proposal_file)), err=True)
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
