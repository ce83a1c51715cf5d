"""`sluicegate serve`: run the gateway."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from service.cli.common import RulesOption, load_settings, opened_store


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Gateway processes (PostgreSQL only; SQLite takes one writer)."
        ),
    ] = 1,
    rules_dir: RulesOption = None,
) -> None:
    """Run the gateway: one process, or `--workers N` processes sharing a PostgreSQL store."""
    import uvicorn

    from service.app import create_app
    from service.auth.principals import count_principals
    from service.request_log import configure_logging

    settings = load_settings(rules_dir)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        typer.echo(
            "--workers needs PostgreSQL: a SQLite store has one writer, and processes would "
            "queue behind its lock (and each would sign checkpoints with its own key file). "
            "Run one process, or set SLUICEGATE_DATABASE_URL to PostgreSQL.",
            err=True,
        )
        raise typer.Exit(2)
    if workers > 1 and settings.audit_signing_key is None:
        typer.echo(
            "--workers needs SLUICEGATE_AUDIT_SIGNING_KEY: every process signs checkpoints "
            "of one chain with one key (`sluicegate audit new-key` makes one).",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings)
    with opened_store(settings) as database:
        fresh = count_principals(database) == 0
    if fresh:
        typer.echo(
            "\nNo API keys yet. Create an agent key in another terminal:\n"
            "  .venv/bin/sluicegate keys create --role agent --name demo-agent --scope '*'\n"
            "then ask the gate (see README, 'Five-minute tour').\n"
        )
    typer.echo(f"Sluicegate on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if workers == 1:
        app = create_app(settings, whole_process=True)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        return
    # Each worker process builds its app from the same SLUICEGATE_* environment; the store
    # was migrated above, once, before any of them starts.
    if rules_dir is not None:
        os.environ["SLUICEGATE_RULES"] = str(rules_dir)
    typer.echo(f"{workers} worker processes on one PostgreSQL store")
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )
