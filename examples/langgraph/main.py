"""A LangGraph agent whose tools pass the Sluicegate gate, paused and resumed across processes.

    SLUICEGATE_URL=http://127.0.0.1:8000 SLUICEGATE_KEY=sg_… SLUICEGATE_REVIEWER_KEY=sg_… \
        python examples/langgraph/main.py

The model is scripted (no network, no API key); everything else is LangChain's and LangGraph's
own runtime: `create_agent` with `SluicegateMiddleware` (`sluicegate_client.langchain`) and a
SQLite checkpointer. `build_graph` is the same agent as a graph of your own, a `ToolNode` gated
by `sluicegate_client.langgraph`; `SLUICEGATE_EXAMPLE_GRAPH=1` runs that one instead.
It runs in three steps, each its own process where it matters:

1. `start` (a child process): the model looks something up (allowed: the tool runs), then
   asks for a 5,000 USD refund (routed to finance-approvers: the run pauses and the process
   exits, with the pause in the checkpoint file).
2. This process approves the review with the reviewer key, standing in for a person.
3. `resume` (a new child process): the thread resumes from the checkpoint; the gate says
   approved, so the refund runs once through `proceed` and its outcome is reported; then the
   model tries to export customer data to a personal Dropbox, which the gate denies: that
   tool never runs and the model reads why.

It exits 0 only when all of that held.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import tools_condition
from sluicegate_client import GateClient
from sluicegate_client.langchain import SluicegateMiddleware
from sluicegate_client.langgraph import gated_tool_node, paused_decisions, resume_command

sys.path.insert(0, str(Path(__file__).parents[1]))
from demo_support import BillingTools, Demo, Ledger, proposals, verdict

SCRIPT = [
    AIMessage(
        "",
        tool_calls=[
            {"name": "search_knowledge", "args": {"query": "refund policy"}, "id": "call-search-1"}
        ],
    ),
    AIMessage(
        "",
        tool_calls=[
            {
                "name": "issue_refund",
                "args": {"invoice": "INV-2211", "amount_usd": 5000},
                "id": "call-refund-1",
            }
        ],
    ),
    AIMessage(
        "",
        tool_calls=[
            {
                "name": "export_customers",
                "args": {"destination": "dropbox://personal"},
                "id": "call-export-1",
            }
        ],
    ),
    AIMessage("Refunded INV-2211; the export was refused by policy."),
]


class ScriptedModel(BaseChatModel):
    """Answers with the script's next message: which one follows from the conversation so far,
    so a process that resumes the thread picks up where the last one stopped."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        """`create_agent` binds the tools; the script already names them."""
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        turn = sum(1 for message in messages if isinstance(message, AIMessage))
        return ChatResult(generations=[ChatGeneration(message=SCRIPT[turn])])


# Each tool's arguments → what the gate decides.
PROPOSALS = proposals("langgraph")


def build(gate: GateClient, ledger: Ledger, checkpoints: SqliteSaver) -> Any:
    """LangChain's `create_agent` (model → tools → model, until the model stops calling
    tools), every tool call through `SluicegateMiddleware`."""
    return create_agent(
        ScriptedModel(),
        [tool(f) for f in BillingTools(ledger).all()],
        middleware=[SluicegateMiddleware(PROPOSALS, gate=gate)],
        checkpointer=checkpoints,
    )


def build_graph(gate: GateClient, ledger: Ledger, checkpoints: SqliteSaver) -> Any:
    """The same agent as a graph of your own: a `ToolNode` gated by `gated_tool_node`."""
    graph = StateGraph(MessagesState)
    model = ScriptedModel()
    graph.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
    graph.add_node(
        "tools",
        gated_tool_node([tool(f) for f in BillingTools(ledger).all()], PROPOSALS, gate=gate),
    )
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    return graph.compile(checkpointer=checkpoints)


def run_phase(phase: str, workdir: Path) -> dict[str, Any]:
    """One process's part: start the thread, or resume it from the checkpoint file."""
    demo = Demo.from_environment()
    ledger = Ledger(workdir / "ledger.jsonl")
    # One thread per run of the example: its id keys the gate's decisions.
    thread = {"configurable": {"thread_id": (workdir / "thread_id").read_text()}}
    connection = sqlite3.connect(workdir / "checkpoints.sqlite", check_same_thread=False)
    with GateClient(demo.url, demo.agent_key) as gate:
        builder = build_graph if os.environ.get("SLUICEGATE_EXAMPLE_GRAPH") else build
        graph = builder(gate, ledger, SqliteSaver(connection))
        if phase == "start":
            opening = {"messages": [HumanMessage("Customer on WI-981 was charged twice.")]}
            graph.invoke(opening, thread)
        else:
            graph.invoke(resume_command(), thread)
        state = graph.get_state(thread)
    connection.close()
    messages: list[Mapping[str, Any]] = [
        {"tool": m.name, "status": m.status, "content": m.content}
        for m in state.values["messages"]
        if isinstance(m, ToolMessage)
    ]
    return {"paused": paused_decisions(state), "tool_messages": messages}


def _child(phase: str, workdir: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - this same script, as a new process
        [sys.executable, __file__, phase, str(workdir)], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> int:
    """Start in one process, approve, resume in another; check what happened."""
    demo = Demo.from_environment()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        ledger = Ledger(workdir / "ledger.jsonl")
        (workdir / "thread_id").write_text(f"refund-WI-981-{uuid.uuid4().hex[:12]}")
        started = _child("start", workdir)
        paused = started["paused"]
        print(f"paused on {paused}; the refund ran {ledger.runs('issue_refund')} times so far")
        refund_ran_before_approval = ledger.runs("issue_refund")
        for decision_id in paused:
            demo.approve(decision_id, note="checked the duplicate charge")
        resumed = _child("resume", workdir)
        denial = [m for m in resumed["tool_messages"] if m["tool"] == "export_customers"]
        print(json.dumps({"refund_decision": paused[0] if paused else None, **resumed}))
        return verdict(
            {
                "the low-risk tool ran": ledger.runs("search_knowledge") == 1,
                "the refund paused for a person": len(paused) == 1
                and refund_ran_before_approval == 0,
                "after approval the refund ran exactly once": ledger.runs("issue_refund") == 1,
                "its outcome was reported": bool(paused)
                and demo.status(paused[0]) in {"executed", "verified"},
                "the denied export never ran": ledger.runs("export_customers") == 0,
                "the model read why it was denied": bool(denial) and denial[0]["status"] == "error",
                "the run finished": resumed["paused"] == [],
            }
        )


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run_phase(sys.argv[1], Path(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
