"""The proxy served as MCP over streamable HTTP (`http://HOST:PORT/mcp`), on the SDK's
low-level server. The MCP client sends its gate key (`Authorization: Bearer <agent key>`);
every request is checked with the gate before anything else (`key_check.py`: 401 without a
key the gate accepts), and the proxy asks the gate with that same key, so every decision is
the agent's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar, cast

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST
from starlette.applications import Starlette

from service.auth.bearer import bearer_key
from service.mcp.config import ProxyConfig
from service.mcp.gateway_client import GateRefused, GateUnavailable, GatewayClient
from service.mcp.key_check import KeyCache, KeyRequired
from service.mcp.proxy import GatingProxy
from service.mcp.tasks import TASKS_EXTENSION, TaskParams, wants_tasks

T = TypeVar("T")


def _key_of(ctx: Any) -> str | None:
    return bearer_key(ctx.request.headers.get("authorization")) if ctx.request else None


def _required_key(ctx: Any) -> str:
    key = _key_of(ctx)
    if key is None:
        raise MCPError(code=INVALID_REQUEST, message="no gate key")
    return key


async def _about_task(step: Awaitable[T]) -> T:
    """A task step, with the gate's refusals as JSON-RPC errors: another agent's task or an
    unknown one is not found; a completed or cancelled one cannot be cancelled."""
    try:
        return await step
    except GateRefused as exc:
        raise MCPError(code=INVALID_PARAMS, message=f"{exc.code}: {exc}") from exc
    except GateUnavailable as exc:
        raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc


def proxy_app(config: ProxyConfig) -> Starlette:
    """The proxy's ASGI app; its lifespan connects the upstreams."""
    gateway = GatewayClient(config.gate, timeout_seconds=config.gate_timeout_seconds)
    proxy = GatingProxy(config, gateway)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await proxy.list_tools())

    async def call_tool(
        ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        key = _key_of(ctx)
        if key is None:  # KeyRequired answers before this; kept for other transports
            return types.CallToolResult(
                content=[types.TextContent(type="text", text="no gate key")], is_error=True
            )
        as_task = wants_tasks(params.meta)
        return await proxy.call_tool(
            key, params.name, dict(params.arguments or {}), as_task=as_task
        )

    async def get_task(ctx: Any, params: TaskParams) -> dict[str, Any]:
        return await _about_task(proxy.task(_required_key(ctx), params.task_id))

    async def cancel_task(ctx: Any, params: TaskParams) -> dict[str, Any]:
        await _about_task(proxy.cancel_task(_required_key(ctx), params.task_id))
        return {}

    # A task handle (a mapping with `resultType: task`) is a 2026-07-28 extension result the
    # SDK's runner sends as it is; the SDK's type for `on_call_tool` names core results only.
    server: Server[Any] = Server(
        "sluicegate-mcp-proxy", on_list_tools=list_tools, on_call_tool=cast(Any, call_tool)
    )
    server.extensions[TASKS_EXTENSION] = {}
    server.add_request_handler("tasks/get", TaskParams, get_task)
    server.add_request_handler("tasks/cancel", TaskParams, cancel_task)
    app = server.streamable_http_app(
        stateless_http=True, json_response=True, host=config.listen.host
    )
    serve_sessions = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(gateway.close)
            await proxy.connect(stack)
            async with serve_sessions(started):
                yield

    app.router.lifespan_context = lifespan
    app.add_middleware(KeyRequired, keys=KeyCache(gateway))
    return app
