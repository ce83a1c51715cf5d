"""Reading a key from an `Authorization` header (no dependencies: the MCP proxy uses it too)."""

from __future__ import annotations


def bearer_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None for any other header."""
    scheme, _, key = (authorization or "").partition(" ")
    return key if scheme.lower() == "bearer" and key else None
