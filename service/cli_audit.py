"""`sluicegate audit ...`: verify the chain, sign its head, and manage the signing key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from service.audit_checkpointer import checkpoint_head
from service.audit_query import EventFilter, stream_events
from service.audit_signing import load_public_pem, new_private_pem, public_pem, signing_key
from service.audit_verify import verify_store
from service.settings import Settings
from service.store.database import make_engine, migrate

audit = typer.Typer(help="Verify the audit log and sign its head.", no_args_is_help=True)


@audit.command("verify")
def verify_command(
    public_key: Annotated[
        Path | None,
        typer.Option(help="Verify checkpoints with this PEM public key, not the configured key."),
    ] = None,
) -> None:
    """Recompute the chain and check it against every signed checkpoint; exit 1 if broken."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    public = (
        load_public_pem(public_key.read_text())
        if public_key
        else signing_key(settings).public_key()
    )
    with engine.connect() as connection:
        result = verify_store(connection, public)
    engine.dispose()
    typer.echo(
        f"{result.events} events, head seq {result.head_seq} ({result.head_hash}), "
        f"{result.checkpoints} checkpoints"
    )
    if not result.ok:
        typer.echo(f"BROKEN at seq {result.first_broken_seq}: {result.reason}", err=True)
        raise typer.Exit(1)
    typer.echo("OK: every link recomputes and every checkpoint holds")


@audit.command("checkpoint")
def checkpoint_command() -> None:
    """Sign the chain's head now (gateways also do it every SLUICEGATE_AUDIT_CHECKPOINT_SECONDS)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    made = checkpoint_head(engine, signing_key(settings))
    engine.dispose()
    typer.echo(f"signed seq {made.seq} ({made.hash})" if made else "the head is signed already")


@audit.command("new-key")
def new_key_command() -> None:
    """Print a new Ed25519 private key (PEM) for SLUICEGATE_AUDIT_SIGNING_KEY."""
    typer.echo(new_private_pem(), nl=False)


@audit.command("public-key")
def public_key_command() -> None:
    """Print the public key (PEM) that verifies this gateway's checkpoints."""
    typer.echo(public_pem(signing_key(Settings()).public_key()), nl=False)


@audit.command("query")
def query_command(  # noqa: PLR0917 -- typer maps each option to a parameter
    action_type: Annotated[str | None, typer.Option(help="Only this action type.")] = None,
    agent_id: Annotated[str | None, typer.Option(help="Only this agent (principal id).")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="allow, sample, route_to_human, deny.")
    ] = None,
    rule: Annotated[
        str | None, typer.Option(help="Only decisions this rule gave a verdict in.")
    ] = None,
    risk_tier: Annotated[int | None, typer.Option(help="Only this risk tier.")] = None,
    policy_revision: Annotated[
        str | None, typer.Option(help="Only this rule-pack revision.")
    ] = None,
    work_item: Annotated[str | None, typer.Option(help="Only this work item.")] = None,
    queue: Annotated[str | None, typer.Option(help="Only this review queue.")] = None,
    kind: Annotated[str | None, typer.Option(help="decision, review_approved, ...")] = None,
    since: Annotated[datetime | None, typer.Option(help="Recorded at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Recorded before (UTC).")] = None,
) -> None:
    """Print the matching events as NDJSON, oldest first."""
    wanted = EventFilter(
        since=since,
        until=until,
        agent_id=agent_id,
        action_type=action_type,
        outcome=outcome,
        rule=rule,
        risk_tier=risk_tier,
        policy_revision=policy_revision,
        work_item=work_item,
        queue=queue,
        kind=kind,
    )
    engine = make_engine(Settings().database_url)
    with engine.connect() as connection:
        for event in stream_events(connection, wanted):
            typer.echo(event.model_dump_json())
    engine.dispose()
