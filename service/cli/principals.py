"""`sluicegate principals link`: which person a Slack user acts as, and which agent an OAuth
subject's access tokens act as."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import opened_store

principals = typer.Typer(
    help="Manage principals: people and agents.", no_args_is_help=True, rich_markup_mode=None
)


@principals.command("link")
def principals_link(
    name: Annotated[str, typer.Argument(help="The principal's name.")],
    *,
    slack_user: Annotated[
        str | None,
        typer.Option(help="Their Slack user id (U…), from their Slack profile (Copy member ID)."),
    ] = None,
    unlink: Annotated[bool, typer.Option(help="Remove their Slack link.")] = False,
    oauth_subject: Annotated[
        str | None,
        typer.Option(help="An agent: the `sub` (or client id) of its OAuth access tokens."),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(help="The issuer of those tokens (one of SLUICEGATE_OAUTH_ISSUERS)."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Action types the agent may propose by token (glob; repeatable)."),
    ] = None,
    oidc_subject: Annotated[
        str | None,
        typer.Option(help="A person: the `sub` of their ID tokens (SLUICEGATE_OIDC_ISSUER's)."),
    ] = None,
) -> None:
    """Link a person to their Slack user (in Slack they then act as that person, through
    their live reviewer key; docs/slack.md), or an agent to its OAuth subject (its access
    tokens then act as it, with these scopes; docs/identity.md). Recorded on the audit chain."""
    if oauth_subject is not None:
        _link_oauth(name, oauth_subject, issuer, scope or [])
        return
    if oidc_subject is not None:
        _link_oidc(name, oidc_subject)
        return
    from service.auth.slack_users import link_slack_user

    if unlink == (slack_user is not None):
        typer.echo("give --slack-user UXXXX, --unlink, or --oauth-subject SUB", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        try:
            link_slack_user(database, name, slack_user)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"{name!r} unlinked from Slack" if unlink else f"{name!r} is {slack_user} in Slack")


def _link_oauth(name: str, subject: str, issuer: str | None, scopes: list[str]) -> None:
    from service.auth.identities import IdentityKind, link_identity
    from service.cli.common import load_settings

    trusted = load_settings().trusted_issuers
    chosen = issuer or (trusted[0] if len(trusted) == 1 else None)
    if chosen is None or chosen not in trusted:
        typer.echo(f"give --issuer, one of SLUICEGATE_OAUTH_ISSUERS: {trusted}", err=True)
        raise typer.Exit(2)
    if not scopes:
        typer.echo("give the agent's action scopes: --scope 'payments.*' (repeatable)", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        try:
            link_identity(
                database, name, kind=IdentityKind.OAUTH, issuer=chosen, subject=subject,
                scopes=scopes,
            )  # fmt: skip
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"tokens of {subject!r} from {chosen} act as the agent {name!r}, scopes {scopes}")


def _link_oidc(name: str, subject: str) -> None:
    from service.auth.identities import IdentityKind, link_identity
    from service.cli.common import load_settings

    issuer = load_settings().oidc_issuer
    if issuer is None:
        typer.echo("set SLUICEGATE_OIDC_ISSUER: people sign in with that provider", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        try:
            link_identity(database, name, kind=IdentityKind.OIDC, issuer=issuer, subject=subject)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"{subject!r} at {issuer} signs in as {name!r}")
