"""The `sluicegate` command: one module per command group, each importing what it uses only
when it runs (so `sluicegate --help` does not load the gateway)."""

from __future__ import annotations

import typer

from service.cli import (
    audit,
    canaries,
    check,
    db,
    keys,
    mcp,
    permits,
    principals,
    reviews,
    rules,
    serve,
)

# Plain help (click's), not rich's: rendering it with rich takes longer than the rest of the CLI.
app = typer.Typer(
    help="Sluicegate: a policy gate for AI agent actions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.command()(serve.serve)
app.command()(check.check)
app.command("mcp-proxy")(mcp.mcp_proxy)
app.add_typer(keys.keys, name="keys")
app.add_typer(rules.rules, name="rules")
app.add_typer(audit.audit, name="audit")
app.add_typer(permits.permits, name="permits")
app.add_typer(principals.principals, name="principals")
app.add_typer(db.db, name="db")
app.add_typer(canaries.canaries, name="canaries")
app.add_typer(reviews.reviews, name="reviews")
