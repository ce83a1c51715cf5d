"""The proxy served as MCP over streamable HTTP (`http://HOST:PORT/mcp`), on the SDK's
low-level server. The MCP client sends its gate key (`Authorization: Bearer <agent key>`);
without one the answer is 401, and the proxy asks the gate with that same key, so every
decision is the agent's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth.bearer import bearer_key
from service.mcp.config import ProxyConfig
from service.mcp.gateway_client import GatewayClient
from service.mcp.proxy import GatingProxy


class BearerRequired:
    """401 for any request that carries no bearer key: the gate decides who it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            if bearer_key(headers.get("authorization")) is None:
                answer = JSONResponse(
                    {
                        "error": {
                            "code": "unauthenticated",
                            "message": "send the agent's gate key as 'Authorization: Bearer <key>'",
                        }
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def proxy_app(config: ProxyConfig) -> Starlette:
    """The proxy's ASGI app; its lifespan connects the upstreams."""
    gateway = GatewayClient(config.gate, timeout_seconds=config.gate_timeout_seconds)
    proxy = GatingProxy(config, gateway)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await proxy.list_tools())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        key = bearer_key(ctx.request.headers.get("authorization")) if ctx.request else None
        if key is None:  # BearerRequired answers before this; kept for other transports
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
    app.add_middleware(BearerRequired)
    return app
