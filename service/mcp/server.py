"""The proxy served as MCP over streamable HTTP (`http://HOST:PORT/mcp`), on the SDK's
low-level server. The MCP client sends its gate key (`Authorization: Bearer <agent key>`);
every request is checked with the gate before anything else (`key_check.py`: 401 without a
key the gate accepts), and the proxy asks the gate with that same key, so every decision is
the agent's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.auth.bearer import bearer_key
from service.auth.challenge import protected_resource_metadata, resource_metadata_url
from service.auth.token_checks import TokenVerifier
from service.mcp.config import ProxyConfig
from service.mcp.gateway_client import Caller, GateRefused, GateUnavailable, GatewayClient
from service.mcp.key_check import KeyCache, KeyRequired, Refused
from service.mcp.proxy import GatingProxy
from service.mcp.tasks import TASKS_EXTENSION, TaskParams, wants_tasks

T = TypeVar("T")


def _credential_of(ctx: Any) -> str | None:
    return bearer_key(ctx.request.headers.get("authorization")) if ctx.request else None


async def _about_task(step: Awaitable[T]) -> T:
    """A task step, with the gate's refusals as JSON-RPC errors: another agent's task or an
    unknown one is not found; a completed or cancelled one cannot be cancelled."""
    try:
        return await step
    except GateRefused as exc:
        raise MCPError(code=INVALID_PARAMS, message=f"{exc.code}: {exc}") from exc
    except GateUnavailable as exc:
        raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc


def proxy_app(config: ProxyConfig, *, proxy_key: str | None = None) -> Starlette:
    """The proxy's ASGI app; its lifespan connects the upstreams. `proxy_key` is the proxy's
    own gate key (role `proxy`), needed only to act for agents that present access tokens."""
    gateway = GatewayClient(config.gate, timeout_seconds=config.gate_timeout_seconds)
    proxy = GatingProxy(config, gateway)
    tokens = None
    if config.oauth_issuers:
        assert config.public_url is not None  # the configuration's validator says so
        tokens = TokenVerifier(
            issuers=config.oauth_issuers, audience=config.public_url, scope=config.oauth_scope
        )
    keys = KeyCache(gateway, tokens=tokens, proxy_key=proxy_key)

    async def caller_of(ctx: Any) -> Caller:
        credential = _credential_of(ctx)
        if credential is None:  # KeyRequired answers before this; kept for other transports
            raise MCPError(code=INVALID_REQUEST, message="no credential")
        try:
            return await keys.caller(credential)
        except Refused as refused:
            raise MCPError(code=INVALID_REQUEST, message=str(refused)) from refused

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await proxy.list_tools())

    async def call_tool(
        ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        caller = await caller_of(ctx)
        as_task = wants_tasks(params.meta)
        return await proxy.call_tool(
            caller, params.name, dict(params.arguments or {}), as_task=as_task
        )

    async def get_task(ctx: Any, params: TaskParams) -> dict[str, Any]:
        return await _about_task(proxy.task(await caller_of(ctx), params.task_id))

    async def cancel_task(ctx: Any, params: TaskParams) -> dict[str, Any]:
        await _about_task(proxy.cancel_task(await caller_of(ctx), params.task_id))
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
            if tokens is not None:
                stack.callback(tokens.close)
            await proxy.connect(stack)
            async with serve_sessions(started):
                yield

    app.router.lifespan_context = lifespan
    if config.public_url is not None and config.oauth_issuers:
        metadata = protected_resource_metadata(
            config.public_url, config.oauth_issuers, config.oauth_scope
        )
        path = urlsplit(resource_metadata_url(config.public_url)).path
        app.router.routes.insert(0, Route(path, lambda _: JSONResponse(metadata)))
    app.add_middleware(KeyRequired, keys=keys, public_url=config.public_url)
    return app
