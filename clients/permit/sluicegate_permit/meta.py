"""Where a permit travels in an MCP call: `_meta["sluicegate/permit"]`, read from whichever
shape the target's MCP library gives `_meta`.

- the official SDK 2.x (`MCPServer`): a dict (`ctx.request_context.meta`);
- the official SDK 1.x (`FastMCP` in `mcp.server.fastmcp`) and FastMCP 2.x: a pydantic model
  with extra fields allowed, where keys the SDK does not declare live in `model_extra`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PERMIT_META_KEY = "sluicegate/permit"


def permit_from_meta(meta: Any) -> str | None:
    """The permit in a call's `_meta` (a mapping or a pydantic model), or None when absent."""
    if meta is None:
        return None
    if isinstance(meta, Mapping):
        found = meta.get(PERMIT_META_KEY)
    else:
        extra = getattr(meta, "model_extra", None) or {}
        found = extra.get(PERMIT_META_KEY, getattr(meta, PERMIT_META_KEY, None))
    return found if isinstance(found, str) and found else None
