"""`sluicegate keys ...`: create and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from service.auth.roles import Role
from service.cli.common import opened_store

keys = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=None)


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
    from service.auth.keys import create_key
    from service.auth.principals import principal_named

    scopes = scope or []
    if role is Role.AGENT and not scopes:
        typer.echo(
            "an agent key needs at least one --scope (use '*' for every action type)", err=True
        )
        raise typer.Exit(2)
    with opened_store() as database:
        try:
            owner_id = principal_named(database, owner) if owner else None
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        principal, secret = create_key(
            database, name=name, role=role, scopes=scopes, owner_id=owner_id
        )
    typer.echo(f"created {role.value} key for {name!r} (id {principal.id}, scopes {scopes})")
    typer.echo("store it now; it is not shown again:")
    typer.echo(secret)


@keys.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Option(help="Whose key to revoke (a principal's name).")],
) -> None:
    """Revoke a key: it stops working within SLUICEGATE_AUTH_CACHE_SECONDS; recorded on the
    audit chain."""
    from service.auth.keys import revoke_key
    from service.auth.principals import principal_named

    with opened_store() as database:
        try:
            revoke_key(database, principal_named(database, name))
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"revoked the key of {name!r}")
