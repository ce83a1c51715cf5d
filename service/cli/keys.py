"""`sluicegate keys ...`: create, list and revoke API keys; keys belong to a principal."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from service.auth.roles import Role
from service.cli.common import opened_store

keys = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=None)


class ListFormat(StrEnum):
    """How `keys list` prints."""

    TEXT = "text"
    JSON = "json"


def _refused(exc: Exception) -> typer.Exit:
    typer.echo(str(exc), err=True)
    return typer.Exit(2)


@keys.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    name: Annotated[
        str,
        typer.Option(
            help="The principal who holds the key (a person's or an agent's name); a name seen "
            "before gets one more key, as during a rotation."
        ),
    ],
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
            principal, secret = create_key(
                database, name=name, role=role, scopes=scopes, owner_id=owner_id
            )
        except (LookupError, ValueError) as exc:
            raise _refused(exc) from exc
    typer.echo(
        f"created {role.value} key {principal.key_id} for {name!r} "
        f"(principal {principal.id}, scopes {scopes})"
    )
    typer.echo("store it now; it is not shown again:")
    typer.echo(secret)


@keys.command("list")
def keys_list(
    output: Annotated[ListFormat, typer.Option("--format", help="text or json.")] = ListFormat.TEXT,
) -> None:
    """Every key, live and revoked: id, name, role, scopes, owner, created_at, revoked_at."""
    from service.auth.keys import list_keys

    with opened_store() as database:
        listed = list_keys(database)
    rows = [
        {
            "id": key.id,
            "name": key.name,
            "role": key.role,
            "scopes": key.scopes,
            "owner": key.owner,
            "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "principal_id": key.principal_id,
            "kind": key.kind,
        }
        for key in listed
    ]
    if output is ListFormat.JSON:
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = ("id", "name", "role", "scopes", "owner", "created_at", "revoked_at")
    table: list[tuple[str, ...]] = [
        columns,
        *(
            tuple(
                ",".join(row[c]) if c == "scopes" else ("-" if row[c] is None else str(row[c]))  # type: ignore[arg-type]
                for c in columns
            )
            for row in rows
        ),
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@keys.command("revoke")
def keys_revoke(
    key_id: Annotated[str | None, typer.Option("--id", help="Revoke this one key.")] = None,
    name: Annotated[str | None, typer.Option(help="Revoke every key of this principal.")] = None,
) -> None:
    """Revoke one key (--id) or all of a principal's keys (--name): every gateway refuses them
    within a second; recorded on the audit chain."""
    from service.auth.keys import revoke_key, revoke_keys_of
    from service.auth.principals import principal_named

    if (key_id is None) == (name is None):
        typer.echo("give exactly one of --id and --name", err=True)
        raise typer.Exit(2)
    with opened_store() as database:
        if key_id is not None:
            if not revoke_key(database, key_id):
                raise _refused(LookupError(f"no live key has the id {key_id!r}"))
            typer.echo(f"revoked key {key_id}")
            return
        assert name is not None
        try:
            count = revoke_keys_of(database, principal_named(database, name))
        except LookupError as exc:
            raise _refused(exc) from exc
    if not count:
        raise _refused(LookupError(f"{name!r} has no live key"))
    typer.echo(f"revoked {count} key{'s' if count != 1 else ''} of {name!r}")
