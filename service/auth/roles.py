"""What a principal may do: the roles keys are created with (no dependencies, so the CLI can
offer them without loading the gateway)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a principal may do."""

    AGENT = "agent"
    REVIEWER = "reviewer"
    AUTHOR = "author"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SIDECAR = "sidecar"  # an OPA sidecar: downloads the rule bundle, nothing else
    PROXY = "proxy"  # an MCP proxy: acts for the agents whose tokens it checked (auth/on_behalf.py)
