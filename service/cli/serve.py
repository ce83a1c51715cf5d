"""`sluicegate serve`: run the gateway."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import RulesOption, load_settings, opened_store


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    rules_dir: RulesOption = None,
) -> None:
    """Run the gateway."""
    import uvicorn

    from service.app import create_app
    from service.auth.principals import count_principals
    from service.request_log import configure_logging

    settings = load_settings(rules_dir)
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
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
