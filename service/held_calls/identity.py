"""What makes two tool calls the same call: the upstream, the tool and the arguments."""

from __future__ import annotations

from typing import Any

from service.audit.event import digest

# The MCP proxy sends a call's digest with its proposal (`POST /v1/decisions`): when the agent
# already has that call held, the gate says so (409 call_already_held) instead of deciding.
CALL_DIGEST_HEADER = "Sluicegate-Call-Digest"


def call_digest(upstream: str, tool: str, arguments: dict[str, Any]) -> str:
    """`sha256:` and the hex sha256 of the RFC 8785 form of the three; the proxy finds a call
    made again while it is held by it (`GET /v1/held-calls?call_digest=`)."""
    return digest({"upstream": upstream, "tool": tool, "arguments": arguments})
