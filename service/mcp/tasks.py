"""MCP's Tasks extension (`io.modelcontextprotocol/tasks`, revision 2026-07-28) for held calls:
the wire shapes only. A client that declares the extension in a request's `_meta` gets, for a
call routed to a person, a task handle instead of a tool error; `tasks/get` reports it
`working` until the review resolves, then `completed` with the tool's result (or the refusal,
as a tool error); `tasks/cancel` withdraws it. The tasks are the gate's held calls
(`/v1/held-calls`), so any proxy replica answers for any of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mcp_types as types
from pydantic import ConfigDict, Field

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
# How often a requester should ask again (the review takes minutes or hours, not ms).
POLL_INTERVAL_MS = 2000


class TaskParams(types.RequestParams):
    """`tasks/get` and `tasks/cancel`: which task."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    task_id: str = Field(alias="taskId", min_length=1, max_length=64)


def wants_tasks(meta: Mapping[str, Any] | None) -> bool:
    """Whether this request's client declared the Tasks extension (per request, 2026-07-28)."""
    capabilities = (meta or {}).get(types.CLIENT_CAPABILITIES_META_KEY)
    extensions = capabilities.get("extensions") if isinstance(capabilities, Mapping) else None
    return isinstance(extensions, Mapping) and TASKS_EXTENSION in extensions


def task_document(
    held: Mapping[str, Any],
    status: str,
    *,
    message: str | None = None,
    result: types.CallToolResult | None = None,
) -> dict[str, Any]:
    """A task as `tasks/get` reports it: the held call's id, times and where it stands."""
    document: dict[str, Any] = {
        "taskId": held["id"],
        "status": status,
        "createdAt": held["created_at"],
        "lastUpdatedAt": held["updated_at"],
        "ttlMs": None,  # kept with the gate's records; not dropped after a time
        "pollIntervalMs": POLL_INTERVAL_MS,
    }
    if message is not None:
        document["statusMessage"] = message
    if result is not None:
        document["result"] = tool_result_document(result)
    return document


def created(held: Mapping[str, Any], message: str) -> dict[str, Any]:
    """What `tools/call` answers when the call becomes a task."""
    return task_document(held, "working", message=message) | {"resultType": "task"}


def tool_result_document(result: types.CallToolResult) -> dict[str, Any]:
    """A tool result as JSON, as it is stored with the held call and put in a task."""
    return result.model_dump(by_alias=True, mode="json", exclude_none=True, exclude={"meta"})
