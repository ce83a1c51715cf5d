"""`sluicegate permits ...`: the keys that sign permits."""

from __future__ import annotations

import typer

from service.cli.common import opened_store

permits = typer.Typer(
    help="Manage the keys that sign permits.", no_args_is_help=True, rich_markup_mode=None
)


@permits.command("rotate-key")
def rotate() -> None:
    """Add a new signing key. Gateways sign with it within seconds; the old key stays in
    /.well-known/jwks.json until the last permit it signed has expired."""
    from service.permits.signer import rotate_key

    with opened_store() as database:
        kid = rotate_key(database)
    typer.echo(f"new permit signing key {kid}")
