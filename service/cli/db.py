"""`sluicegate db ...`: the store's schema, upgraded with Alembic.

The gateway upgrades its store when it starts; operators who run several gateways, or who
want the upgrade as its own deployment step, run `sluicegate db upgrade` first."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import opened_store

db = typer.Typer(help="Manage the store's schema.", no_args_is_help=True, rich_markup_mode=None)


@db.command("upgrade")
def db_upgrade(
    to: Annotated[str, typer.Option(help="The revision to upgrade to.")] = "head",
) -> None:
    """Upgrade the configured store's schema (SLUICEGATE_DATABASE_URL), keeping its data."""
    from service.store.database import current_revision, migrate

    with opened_store(migrated=False) as database:
        before = current_revision(database)
        migrate(database, to)
        after = current_revision(database)
    typer.echo(f"schema {before or 'empty'} -> {after}" if before != after else f"schema {after}")


@db.command("current")
def db_current() -> None:
    """Print the store's schema revision."""
    from service.store.database import current_revision

    with opened_store(migrated=False) as database:
        typer.echo(current_revision(database) or "empty")
