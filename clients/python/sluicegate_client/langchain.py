"""LangChain 1.x: `create_agent` with the gate asked before every tool call (extra `langchain`).

    agent = create_agent(
        model, tools,
        middleware=[SluicegateMiddleware({"issue_refund": refund_proposal}, gate=gate)],
        checkpointer=InMemorySaver(),
    )

The middleware's `wrap_tool_call` (the hook LangChain's own `HumanInTheLoopMiddleware`
family uses) runs each call through the same steps as `gated_tool_node`
(`sluicegate_client.langgraph`): allow or sample, the tool runs and its outcome is reported;
deny, the model reads the rules' reasons; route_to_human, the run pauses with LangGraph's
`interrupt` carrying the decision, and resuming the thread (`resume_command()`) asks the gate
again: approved, the approval is used through `proceed` and the tool runs once. The gate,
not the resume value, decides. A tool with no proposal is refused when called (the agent's
tools are given to `create_agent`, not to the middleware). Pausing needs a checkpointer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from langchain.agents.middleware import AgentMiddleware
from langgraph.prebuilt.tool_node import ToolCallRequest

from sluicegate_client.http import AsyncGateClient, GateClient
from sluicegate_client.langgraph import GatedTools, ToolProposal, ToolResult


class SluicegateMiddleware(AgentMiddleware):
    """Every tool call of a `create_agent` agent passes the gate first."""

    def __init__(
        self,
        proposals: Mapping[str, ToolProposal],
        *,
        gate: GateClient | None = None,
        async_gate: AsyncGateClient | None = None,
    ) -> None:
        super().__init__()
        self._gated = GatedTools(proposals, gate=gate, async_gate=async_gate)

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Ask, pause or refuse (`invoke`/`stream`), then run the tool at most once."""
        return self._gated.wrap_tool_call(request, handler)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """The same, for `ainvoke`/`astream`."""
        return await self._gated.awrap_tool_call(request, handler)

    @property
    def name(self) -> str:
        return "SluicegateMiddleware"


__all__ = ["SluicegateMiddleware"]
