"""`sluicegate canaries from-incidents`: known-answer checks proposed from incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from service.cli.common import RulesOption, load_settings, opened_store

canaries = typer.Typer(
    help="Known-answer checks (canaries) for review queues.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@canaries.command("from-incidents")
def canaries_from_incidents(
    since: Annotated[
        datetime | None, typer.Option(help="Incidents found since this time (UTC).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    rules_dir: RulesOption = None,
) -> None:
    """Print canaries.yaml entries proposed from actions post-hoc reviewers found should not
    have happened (right answer: reject), masked as the log keeps them, for an author to
    review and add to the pack's data/canaries.yaml (docs/authors.md)."""
    import yaml

    from policy.rule_pack import load_rule_pack
    from service.canaries.incidents import from_incidents
    from service.store.utc import as_utc

    settings = load_settings(rules_dir)
    pack = load_rule_pack(settings.rules)
    with opened_store() as database:
        found = from_incidents(
            database, pack.data, since=as_utc(since) if since else None, limit=limit
        )
    if not found:
        typer.echo("# no incident found: nothing to propose", err=True)
        return
    typer.echo(yaml.safe_dump({"canaries": found}, sort_keys=False, allow_unicode=True))
