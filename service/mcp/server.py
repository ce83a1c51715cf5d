"""The proxy served as MCP over streamable HTTP (`http://HOST:PORT/mcp`), on the SDK's
low-level server. The MCP client sends its gate key (`Authorization: Bearer <agent key>`);
every request is checked with the gate before anything else (`key_check.py`: 401 without a
key the gate accepts), and the proxy asks the gate with that same key, so every decision is
the agent's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from starlette.applications import Starlette

from service.auth.bearer import bearer_key
from service.mcp.config import ProxyConfig
from service.mcp.gateway_client import GatewayClient
from service.mcp.key_check import KeyCache, KeyRequired
from service.mcp.proxy import GatingProxy


def proxy_app(config: ProxyConfig) -> Starlette:
    """The proxy's ASGI app; its lifespan connects the upstreams."""
    gateway = GatewayClient(config.gate, timeout_seconds=config.gate_timeout_seconds)
    proxy = GatingProxy(config, gateway)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await proxy.list_tools())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        key = bearer_key(ctx.request.headers.get("authorization")) if ctx.request else None
        if key is None:  # KeyRequired answers before this; kept for other transports
            return types.CallToolResult(
                content=[types.TextContent(type="text", text="no gate key")], is_error=True
            )
        return await proxy.call_tool(key, params.name, dict(params.arguments or {}))

    server: Server[Any] = Server(
        "sluicegate-mcp-proxy", on_list_tools=list_tools, on_call_tool=call_tool
    )
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
