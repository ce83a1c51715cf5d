"""A small payments MCP server: the target system behind the Sluicegate MCP proxy.

`refund` refuses to run without a valid permit from the gate (in the call's `_meta`,
`sluicegate/permit`), checked offline with `sluicegate-permit` against the gate's JWKS.
`lookup_payment` is a read. Every call that ran is counted in PAYMENTS_CALLS_FILE (one line
per call), so a test can see exactly what reached the target.

    SLUICEGATE_JWKS_URL=http://127.0.0.1:8000/.well-known/jwks.json python payments_server.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypedDict

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from sluicegate_permit import MemoryReplayCache, PermitError, RemoteJwks, permit_from_meta, verify

server = MCPServer("payments")
_replay = MemoryReplayCache()
_jwks = RemoteJwks(
    os.environ.get("SLUICEGATE_JWKS_URL", "http://127.0.0.1:8000/.well-known/jwks.json")
)


def _ran(line: str) -> None:
    calls = os.environ.get("PAYMENTS_CALLS_FILE")
    if calls:
        with Path(calls).open("a") as file:
            file.write(line + "\n")


class Refunded(TypedDict):
    """What a refund answers (structured, so the proxy's `done` mapping can read it)."""

    refund_id: str
    amount: float
    message: str


@server.tool()
def refund(amount: float, ticket: str, reason: str, ctx: Context) -> Refunded:
    """Refund a payment (money leaves the company)."""
    permit = permit_from_meta(ctx.request_context.meta)
    if permit is None:
        raise ToolError("no Sluicegate permit: refused")
    arguments = {"amount": amount, "ticket": ticket, "reason": reason}
    try:
        verify(permit, audience="stripe", jwks=_jwks, replay=_replay, **_proposed(arguments))
    except PermitError as refused:
        raise ToolError(f"permit refused: {refused.reason}") from refused
    _ran(f"refund {ticket} {amount}")
    message = f"refunded {amount:g} USD for {ticket}"
    return {"refund_id": f"re_{ticket}", "amount": amount, "message": message}


@server.tool()
def lookup_payment(ticket: str) -> str:
    """Look a payment up (a read)."""
    _ran(f"lookup_payment {ticket}")
    return f"payment for {ticket}: 5000 USD, settled"


@server.tool()
def void_payment(ticket: str) -> str:
    """Void a payment. The proxy configuration maps no action to it, so it never runs."""
    _ran(f"void_payment {ticket}")
    return f"voided {ticket}"


def _proposed(arguments: dict[str, Any]) -> dict[str, Any]:
    """The action and changes as the proxy proposed them for this call (see proxy.yaml)."""
    action = {
        "type": "payments.refund.issue",
        "target": "stripe",
        "environment": "production",
        "amount": {"value": arguments["amount"], "currency": "USD"},
    }
    changes = [
        {"record": "payments/refund", "field": name, "to": value}
        for name, value in arguments.items()
    ]
    return {"action": action, "changes": changes}


if __name__ == "__main__":
    server.run("stdio")
