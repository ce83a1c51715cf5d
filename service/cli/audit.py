"""`sluicegate audit ...`: verify the chain, sign its head, and manage the signing key."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from service.cli.common import load_settings, opened_store

if TYPE_CHECKING:
    from service.audit.query import EventFilter

audit = typer.Typer(
    help="Verify the audit log and sign its head.", no_args_is_help=True, rich_markup_mode=None
)


@audit.command("verify")
def verify_command(
    public_key: Annotated[
        Path | None,
        typer.Option(help="Verify checkpoints with this PEM public key, not the configured key."),
    ] = None,
    pack: Annotated[
        Path | None,
        typer.Option(help="Verify this evidence pack offline instead of the database."),
    ] = None,
) -> None:
    """Recompute the chain and check it against every signed checkpoint; exit 1 if broken."""
    from service.audit.signing import load_public_pem, signing_key
    from service.audit.verify import verify_store

    if pack is not None:
        _verify_pack(pack, public_key)
        return
    settings = load_settings()
    public = (
        load_public_pem(public_key.read_text())
        if public_key
        else signing_key(settings).public_key()
    )
    with opened_store(settings, migrated=False) as database:
        result = verify_store(database, public)
    typer.echo(
        f"{result.events} events, head seq {result.head_seq} ({result.head_hash}), "
        f"{result.checkpoints} checkpoints"
    )
    if not result.ok:
        typer.echo(f"BROKEN at seq {result.first_broken_seq}: {result.reason}", err=True)
        raise typer.Exit(1)
    typer.echo("OK: every link recomputes and every checkpoint holds")


def _verify_pack(pack: Path, public_key: Path | None) -> None:
    from service.audit.evidence_pack import verify_pack
    from service.audit.signing import load_public_pem

    public = load_public_pem(public_key.read_text()) if public_key else None
    result = verify_pack(pack.read_bytes(), public)
    if not result.ok:
        typer.echo(f"BROKEN: {result.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"OK: {result.events} events (seq {result.first_seq}-{result.last_seq}), "
        f"{result.checkpoints} checkpoints, every file as the signed manifest says"
        + ("" if public_key else " (checked with the pack's own key; pass --public-key)")
    )


@audit.command("evidence")
def evidence_command(
    since: Annotated[datetime, typer.Option(help="From this time (UTC).")],
    until: Annotated[datetime, typer.Option(help="To this time, exclusive (UTC).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the zip.")],
) -> None:
    """Write an evidence pack for a time range (verify it with `audit verify --pack`)."""
    from policy.rule_pack import load_rule_pack
    from service.audit.evidence_pack import build_pack
    from service.audit.signing import signing_key
    from service.store.utc import as_utc

    settings = load_settings()
    with opened_store(settings, migrated=False) as database:
        data = build_pack(
            database,
            signing_key(settings),
            load_rule_pack(settings.rules),
            since=as_utc(since),
            until=as_utc(until),
        )
    output.write_bytes(data)
    typer.echo(f"wrote {output} ({len(data):,} bytes)")


@audit.command("checkpoint")
def checkpoint_command() -> None:
    """Sign the chain's head now (gateways also do it every SLUICEGATE_AUDIT_CHECKPOINT_SECONDS)."""
    from service.audit.checkpointer import checkpoint_head
    from service.audit.signing import signing_key

    settings = load_settings()
    with opened_store(settings) as database:
        made = checkpoint_head(database, signing_key(settings))
    typer.echo(f"signed seq {made.seq} ({made.hash})" if made else "the head is signed already")


@audit.command("new-key")
def new_key_command() -> None:
    """Print a new Ed25519 private key (PEM) for SLUICEGATE_AUDIT_SIGNING_KEY."""
    from service.audit.signing import new_private_pem

    typer.echo(new_private_pem(), nl=False)


@audit.command("public-key")
def public_key_command() -> None:
    """Print the public key (PEM) that verifies this gateway's checkpoints."""
    from service.audit.signing import public_pem, signing_key

    typer.echo(public_pem(signing_key(load_settings()).public_key()), nl=False)


FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        help="NAME=VALUE, repeatable: since, until, agent_id, action_type, outcome, rule, "
        "risk_tier, policy_revision, work_item, queue, kind, decision_id.",
    ),
]


def _filter(pairs: list[str] | None) -> EventFilter:
    from pydantic import ValidationError

    from service.audit.query import EventFilter

    given: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--filter")
        given[name.strip()] = value.strip()
    unknown = set(given) - set(EventFilter.model_fields)
    if unknown:
        raise typer.BadParameter(f"unknown filters: {sorted(unknown)}", param_hint="--filter")
    try:
        return EventFilter.model_validate(given)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc), param_hint="--filter") from exc


@audit.command("query")
def query_command(filters: FilterOption = None) -> None:
    """Print the matching events (every kind) as NDJSON, oldest first."""
    from service.audit.query import stream_events

    wanted = _filter(filters)
    with opened_store(migrated=False) as database, database.connect() as connection:
        for event in stream_events(connection, wanted):
            typer.echo(event.model_dump_json())


@audit.command("export")
def export_command(
    filters: FilterOption = None,
    output_format: Annotated[
        Literal["ndjson", "csv"], typer.Option("--format", help="ndjson (OPA-like) or csv.")
    ] = "ndjson",
) -> None:
    """Write the matching decisions to standard output, streamed."""
    from service.audit.export import export_csv, export_ndjson

    wanted = _filter(filters)
    export = export_ndjson if output_format == "ndjson" else export_csv
    out = sys.stdout.buffer
    with opened_store(migrated=False) as database:
        for chunk in export(database, wanted):
            out.write(chunk)
    out.flush()
