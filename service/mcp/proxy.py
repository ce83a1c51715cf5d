"""The gating proxy: every `tools/call` is asked of the gate, with the caller's own key,
before it may reach the upstream MCP server.

- allow / sample: forwarded, with the permit in `_meta` (`sluicegate/permit`); the outcome
  (executed or failed, with the digest of the upstream's result) is reported to the gate.
- route_to_human: a tool error at once naming the decision, the queue and the due time. The
  same call with the same arguments, once approved, goes through `proceed` (single use) and
  is forwarded once; the gate refuses the approval's second use.
- deny: a tool error with the reasons. An unmapped tool, a gate that cannot be reached or
  refuses: nothing is forwarded.

`tools/list` shows only mapped tools, as the upstream describes them."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, cast

import mcp_types as types
from mcp import Client, StdioServerParameters

from service.audit.event import digest
from service.mcp.config import ProxyConfig, done_artifact, proposal_for
from service.mcp.gateway_client import GateRefused, GateUnavailable, GatewayClient
from service.mcp.held import Held, HeldCalls

log = logging.getLogger(__name__)
PERMIT_META = "sluicegate/permit"
# How long a held call is remembered, so its retry can use the approval.
HELD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class _Call:
    """One tool call: whose it is, where it goes, and what the gate is asked."""

    key: str
    upstream: str
    tool: str
    arguments: dict[str, Any]
    proposal: dict[str, Any]

    @property
    def identity(self) -> str:
        """The same agent calling the same tool with the same arguments: the same call."""
        whose = hashlib.sha256(self.key.encode()).hexdigest()
        return digest({"agent": whose, "tool": self.tool, "arguments": self.arguments})


def permit_meta(permit: str) -> types.RequestParamsMeta:
    """The call's `_meta` carrying the permit (an extra key the SDK's type allows)."""
    meta: Any = {PERMIT_META: permit}
    return cast(types.RequestParamsMeta, meta)


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


class GatingProxy:
    """The upstream connections, the gate, and the calls held for review."""

    def __init__(self, config: ProxyConfig, gateway: GatewayClient) -> None:
        self._config = config
        self._gateway = gateway
        self._upstreams: dict[str, Client] = {}
        self._held = HeldCalls(config.held_calls_file, seconds=HELD_SECONDS)
        self._reporting: set[asyncio.Task[None]] = set()

    async def connect(self, stack: AsyncExitStack) -> None:
        """Open a session to every upstream; they close with the stack."""
        for name, upstream in self._config.upstreams.items():
            if upstream.command is not None:
                server: Any = StdioServerParameters(
                    command=upstream.command[0],
                    args=upstream.command[1:],
                    env=self._config.upstream_env(upstream),
                )
            else:
                server = upstream.url
            self._upstreams[name] = await stack.enter_async_context(Client(server))
        stack.push_async_callback(self._reports_sent)
        stack.callback(self._held.close)

    async def _reports_sent(self) -> None:
        """At stop: let the outcome reports still in flight finish."""
        if self._reporting:
            await asyncio.gather(*self._reporting, return_exceptions=True)

    async def list_tools(self) -> list[types.Tool]:
        """The upstreams' tools that have a mapping, descriptions unchanged."""
        tools: list[types.Tool] = []
        for name, client in self._upstreams.items():
            mapped = self._config.upstreams[name].tools
            listed = await client.list_tools()
            tools += [tool for tool in listed.tools if tool.name in mapped]
        return tools

    async def call_tool(
        self, key: str, name: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        """Gate one call; forward it only when the gate lets it happen."""
        found = self._config.mapping(name)
        if found is None:
            return _error(f"the tool {name!r} has no mapping to an action: not forwarded")
        upstream, mapping = found
        call = _Call(
            key, upstream, name, arguments, proposal_for(upstream, name, mapping, arguments)
        )
        try:
            held = self._held.get(call.identity)
            if held is not None:
                return await self._resume(call, held)
            return await self._ask(call)
        except GateUnavailable as exc:
            return _error(f"{exc}: not forwarded")
        except GateRefused as exc:
            return _error(f"the gate refused the call ({exc}): not forwarded")

    async def _ask(self, call: _Call) -> types.CallToolResult:
        body = call.proposal | {"idempotency_key": str(uuid.uuid4())}
        decided = await self._gateway.decide(call.key, body)
        decision_id = decided["decision_id"]
        outcome = decided["outcome"]
        if outcome in {"allow", "sample"}:
            return await self._forward(call, decision_id, decided["permit"])
        if outcome == "route_to_human":
            review = decided.get("review") or {}
            self._held.put(call.identity, Held(decision_id, call.proposal))
            page = f"{self._config.gate.rstrip('/')}/ui/reviews/{review.get('id')}"
            return _error(
                f"held for review: decision {decision_id}, review {review.get('id')} in queue "
                f"{review.get('queue')}, due {review.get('due_at')}; a reviewer decides at "
                f"{page}. Call again with the same arguments once it is approved; it then "
                "runs once."
            )
        reasons = "; ".join(r.get("message") or r.get("rule", "") for r in decided["reasons"])
        return _error(f"denied by the gate (decision {decision_id}): {reasons}")

    async def _resume(self, call: _Call, held: Held) -> types.CallToolResult:
        status = (await self._gateway.status(call.key, held.decision_id))["status"]
        if status == "pending_review":
            return _error(f"still held for review: decision {held.decision_id}")
        if status != "approved":
            return _error(f"not forwarded: decision {held.decision_id} is {status}")
        try:
            use = await self._gateway.proceed(call.key, held.decision_id, held.proposal)
        except GateRefused as exc:
            return _error(f"not forwarded: the approval cannot be used ({exc.code})")
        return await self._forward(call, held.decision_id, use["permit"])

    async def _forward(self, call: _Call, decision_id: str, permit: str) -> types.CallToolResult:
        try:
            result = await self._upstreams[call.upstream].call_tool(
                call.tool,
                call.arguments,
                meta=permit_meta(permit),
            )
        except Exception as exc:  # the upstream failed: report it, and say so
            await self._report(call.key, decision_id, "failed", {"error": type(exc).__name__})
            return _error(f"the upstream failed ({type(exc).__name__})")
        shown = result.model_dump(mode="json", by_alias=True, exclude={"meta"})
        status = "failed" if result.is_error else "executed"
        artifact: dict[str, Any] = {"result_digest": digest(shown)}
        if not result.is_error:
            mapping = self._config.upstreams[call.upstream].tools[call.tool]
            artifact |= done_artifact(mapping, call.arguments, result.structured_content)
        # The caller does not wait for the report: it goes to the gate beside the answer.
        report = self._report(call.key, decision_id, status, artifact)
        task = asyncio.create_task(report)
        self._reporting.add(task)
        task.add_done_callback(self._reporting.discard)
        return result

    async def _report(
        self, key: str, decision_id: str, status: str, artifact: dict[str, Any]
    ) -> None:
        try:
            await self._gateway.report(key, decision_id, status, artifact)
        except (GateUnavailable, GateRefused) as exc:
            log.warning("outcome of %s not reported: %s", decision_id, type(exc).__name__)
