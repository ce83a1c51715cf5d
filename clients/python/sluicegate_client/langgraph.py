"""LangGraph: the gate asked before every tool call of a `ToolNode` (extra `langgraph`).

    node = gated_tool_node(tools, proposals={"issue_refund": refund_proposal}, gate=gate)

For each call the node builds the tool's proposal, with an idempotency key made of the
thread and the tool call's id, and asks the gate:

- allow or sample: the tool runs, and its outcome (executed, or failed) is reported;
- deny: the tool does not run; the model gets the tool's error text with the rules' reasons;
- route_to_human: the run pauses with LangGraph's `interrupt`, carrying the decision id and
  the packet (tool, arguments, queue, due time, reasons). Resuming the thread (any resume
  value; `resume_command()` is one) asks the gate again: the same key gets the same decision
  back, so nothing is decided twice. Approved, the approval is used through `proceed` and the
  tool runs once; rejected or expired, the model gets the refusal; still waiting, the run
  pauses again. With a persistent checkpointer the pause survives a restart of the process.

The gate, not the resume value, says whether the tool may run: a resume cannot approve.
A tool without a proposal is refused when the node is built. Keep LangGraph's default error
handling (`handle_tool_errors`): catching every exception would also swallow the pause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, StateSnapshot, interrupt

from sluicegate_client.errors import ActionDenied, GateError
from sluicegate_client.http import AsyncGateClient, GateClient, ProposalBody, Reported, keyed
from sluicegate_client.models import ActionStatus, Decision, DecisionStatus, Outcome

log = logging.getLogger(__name__)
# The tool's arguments → the proposal the gate decides.
ToolProposal = Callable[[Mapping[str, Any]], ProposalBody]
ToolResult = ToolMessage | Command[Any]
PAUSE_KEY = "sluicegate"


class _Call:
    """One tool call as the gate sees it: its proposal (keyed to the thread and the call)."""

    def __init__(self, request: ToolCallRequest, proposals: Mapping[str, ToolProposal]) -> None:
        call = request.tool_call
        self.name: str = call["name"]
        self.call_id: str = call["id"] or ""
        self.args: dict[str, Any] = dict(call["args"])
        configurable = (request.runtime.config or {}).get("configurable", {})
        thread = configurable.get("thread_id", "no-thread")
        self.proposal = keyed(
            proposals[self.name](self.args), key=f"langgraph:{thread}:{self.call_id}"
        )

    def refused(self, error: ActionDenied | GateError) -> ToolMessage:
        """What the model reads when the tool did not run."""
        return ToolMessage(
            content=f"Not done: the gate refused {self.name}. {error}",
            name=self.name,
            tool_call_id=self.call_id,
            status="error",
        )

    def pause(self, decision: Decision) -> dict[str, Any]:
        """The packet the interrupt carries."""
        review = decision.review
        return {
            PAUSE_KEY: {
                "decision_id": decision.decision_id,
                "tool": self.name,
                "tool_call_id": self.call_id,
                "args": self.args,
                "proposal": self.proposal,
                "queue": review.queue if review else None,
                "due_at": review.due_at.isoformat() if review else None,
                "reasons": [reason.model_dump(mode="json") for reason in decision.reasons],
            }
        }


class _Stopwatch:
    """How long the tool ran: the agent's compute, reported beside the time it waited."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)


def _outcome(result: ToolResult) -> tuple[Reported, dict[str, Any]]:
    failed = isinstance(result, ToolMessage) and result.status == "error"
    return ("failed" if failed else "executed"), {"tool_call_id": _call_id(result)}


def _call_id(result: ToolResult) -> str | None:
    return result.tool_call_id if isinstance(result, ToolMessage) else None


def _after_review(status: DecisionStatus) -> ActionDenied | None:
    """None when approved; the refusal when rejected or expired."""
    return None if status.status is ActionStatus.APPROVED else ActionDenied(status)


class GatedTools:
    """The `wrap_tool_call` / `awrap_tool_call` pair a `ToolNode` runs each call through."""

    def __init__(
        self,
        proposals: Mapping[str, ToolProposal],
        *,
        gate: GateClient | None = None,
        async_gate: AsyncGateClient | None = None,
    ) -> None:
        if gate is None and async_gate is None:
            raise ValueError("give a GateClient, an AsyncGateClient, or both")
        self._proposals = proposals
        self._gate = gate
        self._async_gate = async_gate

    # -- blocking graphs (`graph.invoke`) ---------------------------------------------------

    def wrap_tool_call(
        self, request: ToolCallRequest, execute: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Ask, pause or refuse, then run the tool at most once and report what happened."""
        if self._gate is None:
            raise TypeError("a blocking graph needs a GateClient")
        unproposed = self._unproposed(request)
        if unproposed is not None:
            return unproposed
        gate, call = self._gate, _Call(request, self._proposals)
        try:
            decision = gate.decide(call.proposal)
            if decision.outcome is Outcome.DENY:
                return call.refused(ActionDenied(decision))
            if decision.outcome is Outcome.ROUTE_TO_HUMAN:
                status = gate.get(decision.decision_id)
                while status.status is ActionStatus.PENDING_REVIEW:
                    interrupt(call.pause(decision))
                    status = gate.get(decision.decision_id)
                refusal = _after_review(status)
                if refusal is not None:
                    return call.refused(refusal)
                gate.proceed(decision.decision_id, call.proposal)
        except GateError as error:
            return call.refused(error)
        try:
            clock = _Stopwatch()
            result = execute(request)
        except Exception:
            self._report(
                lambda: gate.report(decision.decision_id, "failed", duration_ms=clock.ms())
            )
            raise
        reported, artifact = _outcome(result)
        took = clock.ms()
        self._report(
            lambda: gate.report(decision.decision_id, reported, artifact=artifact, duration_ms=took)
        )
        return result

    def _unproposed(self, request: ToolCallRequest) -> ToolMessage | None:
        """A refusal for a tool nobody gave a proposal for (the gate must see every call);
        a `ToolNode` refuses such tools when built, a middleware only when one is called."""
        name = request.tool_call["name"]
        if name in self._proposals:
            return None
        return ToolMessage(
            content=f"Not done: {name} has no proposal for the gate, so it may not run.",
            name=name,
            tool_call_id=request.tool_call["id"] or "",
            status="error",
        )

    @staticmethod
    def _report(send: Callable[[], object]) -> None:
        # The tool has run: a report that cannot be delivered must not fail the step, or
        # the graph would run the tool again. The gate shows the action as not reported.
        try:
            send()
        except GateError as error:
            log.warning("the outcome could not be reported: %s", error)

    # -- async graphs (`graph.ainvoke`) -----------------------------------------------------

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        execute: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """The same as `wrap_tool_call`, with the async client."""
        if self._async_gate is None:
            raise TypeError("an async graph needs an AsyncGateClient")
        unproposed = self._unproposed(request)
        if unproposed is not None:
            return unproposed
        gate, call = self._async_gate, _Call(request, self._proposals)
        try:
            decision = await gate.decide(call.proposal)
            if decision.outcome is Outcome.DENY:
                return call.refused(ActionDenied(decision))
            if decision.outcome is Outcome.ROUTE_TO_HUMAN:
                status = await gate.get(decision.decision_id)
                while status.status is ActionStatus.PENDING_REVIEW:
                    interrupt(call.pause(decision))
                    status = await gate.get(decision.decision_id)
                refusal = _after_review(status)
                if refusal is not None:
                    return call.refused(refusal)
                await gate.proceed(decision.decision_id, call.proposal)
        except GateError as error:
            return call.refused(error)
        try:
            clock = _Stopwatch()
            result = await execute(request)
        except Exception:
            await self._areport(gate.report(decision.decision_id, "failed", duration_ms=clock.ms()))
            raise
        reported, artifact = _outcome(result)
        await self._areport(
            gate.report(decision.decision_id, reported, artifact=artifact, duration_ms=clock.ms())
        )
        return result

    @staticmethod
    async def _areport(sending: Awaitable[object]) -> None:
        try:
            await sending
        except GateError as error:
            log.warning("the outcome could not be reported: %s", error)


def gated_tool_node(
    tools: Sequence[BaseTool],
    proposals: Mapping[str, ToolProposal],
    *,
    gate: GateClient | None = None,
    async_gate: AsyncGateClient | None = None,
    **tool_node_options: Any,
) -> ToolNode:
    """A `ToolNode` whose every call passes the gate first; each tool needs a proposal."""
    missing = sorted({tool.name for tool in tools} - set(proposals))
    if missing:
        raise ValueError(f"no proposal for the tools {missing}: the gate must see every call")
    gated = GatedTools(proposals, gate=gate, async_gate=async_gate)
    return ToolNode(
        list(tools),
        wrap_tool_call=gated.wrap_tool_call,
        awrap_tool_call=gated.awrap_tool_call,
        **tool_node_options,
    )


def paused_decisions(snapshot: StateSnapshot) -> list[str]:
    """The decision ids a paused thread waits on (from `graph.get_state(config)`)."""
    found = []
    for pending in snapshot.interrupts:
        value = pending.value
        if isinstance(value, dict) and PAUSE_KEY in value:
            found.append(str(value[PAUSE_KEY]["decision_id"]))
    return found


def resume_command() -> Command[Any]:
    """What to resume a paused thread with: the gate decides whether the tool runs."""
    return Command(resume={"checked_with": "sluicegate"})
