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
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, cast

import mcp_types as types
from mcp import Client, StdioServerParameters

from service.audit.event import digest
from service.held_calls.identity import call_digest
from service.mcp.config import ProxyConfig, done_artifact, proposal_for
from service.mcp.gateway_client import Caller, GateRefused, GateUnavailable, GatewayClient
from service.mcp.tasks import created, task_document, tool_result_document

log = logging.getLogger(__name__)
PERMIT_META = "sluicegate/permit"


@dataclass(frozen=True)
class _Call:
    """One tool call: whose it is, where it goes, and what the gate is asked."""

    caller: Caller
    upstream: str
    tool: str
    arguments: dict[str, Any]
    proposal: dict[str, Any]


def permit_meta(permit: str) -> types.RequestParamsMeta:
    """The call's `_meta` carrying the permit (an extra key the SDK's type allows)."""
    meta: Any = {PERMIT_META: permit}
    return cast(types.RequestParamsMeta, meta)


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _not_forwarded(exc: GateRefused | GateUnavailable) -> types.CallToolResult:
    if isinstance(exc, GateRefused):
        return _error(f"the gate refused the call ({exc}): not forwarded")
    return _error(f"{exc}: not forwarded")


def _note(held: dict[str, Any]) -> str:
    note = (held["status"].get("review") or {}).get("note")
    return f"; the reviewer's note: {note}" if note else ""


@dataclass(frozen=True)
class _Progress:
    """Where a held call stands for its caller: done (the tool's result, or the refusal the
    agent reads), or still waiting (and why)."""

    held: dict[str, Any]
    done: types.CallToolResult | None = None
    waiting: str | None = None
    cancelled: bool = False


class GatingProxy:
    """The upstream connections and the gate; calls held for review live in the gate's store
    (`/v1/held-calls`), so any replica of the proxy answers for any of them."""

    def __init__(self, config: ProxyConfig, gateway: GatewayClient) -> None:
        self._config = config
        self._gateway = gateway
        self._upstreams: dict[str, Client] = {}
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
            # `auto`: the upstream's `server/discover` (2026-07-28), else the initialize handshake.
            client = await stack.enter_async_context(Client(server))
            log.info("upstream %s speaks MCP %s", name, client.protocol_version)
            self._upstreams[name] = client
        stack.push_async_callback(self._reports_sent)

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
        self, caller: Caller, name: str, arguments: dict[str, Any], *, as_task: bool = False
    ) -> types.CallToolResult | dict[str, Any]:
        """Gate one call; forward it only when the gate lets it happen. With `as_task` (the
        client declared MCP Tasks), a call routed to a person answers a task handle."""
        found = self._config.mapping(name)
        if found is None:
            return _error(f"the tool {name!r} has no mapping to an action: not forwarded")
        upstream, mapping = found
        call = _Call(
            caller, upstream, name, arguments, proposal_for(upstream, name, mapping, arguments)
        )
        try:
            return await self._ask(call, as_task=as_task)
        except GateRefused as exc:
            if exc.code == "call_already_held":  # made again while held, on any replica
                return await self._answer_held(caller, str(exc.details[0]["held_call_id"]))
            return _not_forwarded(exc)
        except GateUnavailable as exc:
            return _not_forwarded(exc)

    async def _answer_held(self, caller: Caller, held_call_id: str) -> types.CallToolResult:
        """Where a held call stands, moved on as far as its review allows."""
        try:
            progress = await self._progress(
                caller, await self._gateway.held_call(caller, held_call_id)
            )
        except (GateRefused, GateUnavailable) as exc:
            return _not_forwarded(exc)
        return progress.done or _error(f"still held for review: {progress.waiting}")

    async def task(self, caller: Caller, task_id: str) -> dict[str, Any]:
        """`tasks/get`: the held call's task, moved on as far as its review allows."""
        progress = await self._progress(caller, await self._gateway.held_call(caller, task_id))
        if progress.cancelled:
            return task_document(progress.held, "cancelled")
        if progress.done is not None:
            return task_document(progress.held, "completed", result=progress.done)
        return task_document(progress.held, "working", message=progress.waiting)

    async def cancel_task(self, caller: Caller, task_id: str) -> None:
        """`tasks/cancel`: the proposal is withdrawn (its open review closes as withdrawn)."""
        await self._gateway.cancel(caller, task_id)

    async def _ask(self, call: _Call, *, as_task: bool) -> types.CallToolResult | dict[str, Any]:
        body = call.proposal | {"idempotency_key": str(uuid.uuid4())}
        # A task's client resumes it by task id; any other call made again is found by digest.
        digest_of_call = None if as_task else call_digest(call.upstream, call.tool, call.arguments)
        decided = await self._gateway.decide(call.caller, body, call_digest=digest_of_call)
        decision_id = decided["decision_id"]
        outcome = decided["outcome"]
        if outcome in {"allow", "sample"}:
            return await self._forward(call, decision_id, decided["permit"])
        if outcome == "route_to_human":
            held = await self._gateway.hold(
                call.caller,
                {
                    "decision_id": decision_id,
                    "upstream": call.upstream,
                    "tool": call.tool,
                    "arguments": call.arguments,
                    "proposal": body,
                },
            )
            waiting = self._waiting(held)
            if as_task:
                return created(held, waiting)
            return _error(
                f"held for review: decision {decision_id}, {waiting}. Call again with the same "
                "arguments once it is approved; it then runs once."
            )
        reasons = "; ".join(r.get("message") or r.get("rule", "") for r in decided["reasons"])
        return _error(f"denied by the gate (decision {decision_id}): {reasons}")

    async def _progress(self, caller: Caller, held: dict[str, Any]) -> _Progress:
        """Move a held call on as far as its review allows: forward it once when approved
        (one replica at a time, under the gate's lease), store the refusal when not."""
        state, status = held["state"], held["status"]["status"]
        if state == "completed":
            return _Progress(held, done=types.CallToolResult.model_validate(held["result"]))
        if state == "cancelled":
            return _Progress(held, cancelled=True)
        if status == "pending_review":
            return _Progress(held, waiting=self._waiting(held))
        if status == "approved":
            try:
                held = await self._gateway.start_forwarding(caller, held["id"])
            except GateRefused as exc:
                if exc.code != "held_call_busy":
                    raise
                return _Progress(held, waiting="approved; another proxy replica is forwarding it")
            result = await self._use_and_forward(caller, held)
        else:
            result = _error(
                f"not forwarded: decision {held['decision_id']} was {status}{_note(held)}"
            )
        stored = await self._gateway.complete(caller, held["id"], tool_result_document(result))
        return _Progress(stored, done=result)

    async def _use_and_forward(self, caller: Caller, held: dict[str, Any]) -> types.CallToolResult:
        call = _Call(caller, held["upstream"], held["tool"], held["arguments"], held["proposal"])
        try:
            use = await self._gateway.proceed(caller, held["decision_id"], held["proposal"])
        except GateRefused as exc:
            return _error(f"not forwarded: the approval cannot be used ({exc.code})")
        return await self._forward(call, held["decision_id"], use["permit"])

    def _waiting(self, held: dict[str, Any]) -> str:
        """Where a held call's review stands, for the agent and its user."""
        review = held["status"].get("review") or {}
        page = f"{self._config.gate.rstrip('/')}/ui/reviews/{review.get('id')}"
        return (
            f"review {review.get('id')} in queue {review.get('queue')}, due "
            f"{review.get('due_at')}, {review.get('approvals', 0)} of "
            f"{review.get('approvals_required', 1)} approvals so far; a reviewer decides at {page}"
        )

    async def _forward(self, call: _Call, decision_id: str, permit: str) -> types.CallToolResult:
        try:
            result = await self._upstreams[call.upstream].call_tool(
                call.tool,
                call.arguments,
                meta=permit_meta(permit),
            )
        except Exception as exc:  # the upstream failed: report it, and say so
            await self._report(call.caller, decision_id, "failed", {"error": type(exc).__name__})
            return _error(f"the upstream failed ({type(exc).__name__})")
        shown = result.model_dump(mode="json", by_alias=True, exclude={"meta"})
        status = "failed" if result.is_error else "executed"
        artifact: dict[str, Any] = {"result_digest": digest(shown)}
        if not result.is_error:
            mapping = self._config.upstreams[call.upstream].tools[call.tool]
            artifact |= done_artifact(mapping, call.arguments, result.structured_content)
        # The caller does not wait for the report: it goes to the gate beside the answer.
        report = self._report(call.caller, decision_id, status, artifact)
        task = asyncio.create_task(report)
        self._reporting.add(task)
        task.add_done_callback(self._reporting.discard)
        return result

    async def _report(
        self, caller: Caller, decision_id: str, status: str, artifact: dict[str, Any]
    ) -> None:
        try:
            await self._gateway.report(caller, decision_id, status, artifact)
        except (GateUnavailable, GateRefused) as exc:
            log.warning("outcome of %s not reported: %s", decision_id, type(exc).__name__)
