"""`sluicegate mcp-proxy`: gate the tool calls of MCP clients."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import problems


def mcp_proxy(
    config: Annotated[Path, typer.Option("--config", help="The proxy's YAML configuration.")],
    host: Annotated[
        str | None,
        typer.Option(
            help="Listen on this address (default: the file's `listen.host`).",
            envvar="SLUICEGATE_MCP_HOST",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Listen on this port (default: `listen.port`).",
            envvar="SLUICEGATE_MCP_PORT",
        ),
    ] = None,
    gate: Annotated[
        str | None,
        typer.Option(
            help="The gate's URL (default: the file's `gate`).", envvar="SLUICEGATE_GATE_URL"
        ),
    ] = None,
) -> None:
    """Serve MCP at http://HOST:PORT/mcp in front of the configured upstream MCP servers;
    every tool call is asked of the gate first, with the caller's own key. Stdio upstreams
    are started with SLUICEGATE_GATE_URL and SLUICEGATE_JWKS_URL set to this gate's."""
    import uvicorn
    from pydantic import ValidationError

    from service.mcp.config import load_config
    from service.mcp.server import proxy_app

    try:
        loaded = load_config(config).served_at(gate=gate, host=host, port=port)
    except ValidationError as exc:
        typer.echo(problems(exc, source=str(config)), err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.echo(f"cannot read {config}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    host, port = loaded.listen.host, loaded.listen.port
    typer.echo(f"Sluicegate MCP proxy on http://{host}:{port}/mcp, gate {loaded.gate}")
    # The proxy's own key (role proxy), to act for agents that present access tokens; from
    # the environment only, never the file or the command line (docs/identity.md).
    proxy_key = os.environ.get("SLUICEGATE_PROXY_KEY") or None
    if loaded.oauth_issuers and proxy_key is None:
        typer.echo("oauth_issuers needs the proxy's own key in SLUICEGATE_PROXY_KEY", err=True)
        raise typer.Exit(2)
    app = proxy_app(loaded, proxy_key=proxy_key)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
