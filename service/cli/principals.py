"""`sluicegate principals link`: which person a Slack user acts as."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import opened_store

principals = typer.Typer(
    help="Manage principals: people and agents.", no_args_is_help=True, rich_markup_mode=None
)


@principals.command("link")
def principals_link(
    name: Annotated[str, typer.Argument(help="The person's principal name.")],
    slack_user: Annotated[
        str | None,
        typer.Option(help="Their Slack user id (U…), from their Slack profile (Copy member ID)."),
    ] = None,
    unlink: Annotated[bool, typer.Option(help="Remove their Slack link.")] = False,
) -> None:
    """Link a person to their Slack user: in Slack they then act as that person, through
    their live reviewer key (docs/slack.md). The change is recorded on the audit chain."""
    from service.auth.slack_users import link_slack_user

    if unlink == (slack_user is not None):
        typer.echo("give --slack-user UXXXX, or --unlink", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        try:
            link_slack_user(database, name, slack_user)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"{name!r} unlinked from Slack" if unlink else f"{name!r} is {slack_user} in Slack")
