"""The two framework adapters against a gateway served on loopback: their examples, run as a
user runs them, and the refusals an example does not show.

The examples, against a gateway served on loopback.

Each example exits 0 only when a low-risk tool ran, a high-risk tool paused, was approved and
ran exactly once with its outcome reported, and a denied tool never ran. The gate's log must
show their decisions: labelled with the example, one of each outcome, the approval used and
the outcome reported.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents import Agent, ModelResponse, RunConfig, Runner, RunState, Usage, set_trace_processors
from agents.models.interface import Model
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)
from sluicegate_client import AsyncGateClient, GateClient
from sluicegate_client.langchain import SluicegateMiddleware
from sluicegate_client.langgraph import gated_tool_node, paused_decisions, resume_command
from sluicegate_client.openai_agents import AgentsGate

from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import REFUND, RULES
from tests.loopback import serving

EXAMPLES = Path(__file__).parents[2] / "examples"


@dataclass(frozen=True)
class Served:
    url: str
    keys: dict[str, str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'examples.db'}"
    engine = database_engine(url)
    migrate(engine)
    keys = {
        "agent": create_key(engine, name="example-agent", role=Role.AGENT, scopes=["*"])[1],
        "reviewer": create_key(
            engine, name="finance-lead", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )[1],
        "auditor": create_key(engine, name="example-auditor", role=Role.AUDITOR, scopes=[])[1],
    }
    engine.dispose()
    with serving(Settings(database_url=url, rules=RULES)) as base:
        yield Served(base, keys)


def _events(served: Served, **query: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{served.url}/v1/audit/events",
        params=query | {"limit": "200"},
        headers={"Authorization": f"Bearer {served.keys['auditor']}"},
    )
    answer.raise_for_status()
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


@pytest.mark.integration
@pytest.mark.parametrize(
    ("example", "variant"),
    [("langgraph", {}), ("langgraph", {"SLUICEGATE_EXAMPLE_GRAPH": "1"}), ("openai-agents", {})],
    ids=["langchain-create-agent", "langgraph-own-graph", "openai-agents"],
)
def test_the_example_runs_against_a_served_gateway(
    served: Served, example: str, variant: dict[str, str]
) -> None:
    environment = (
        os.environ
        | variant
        | {
            "SLUICEGATE_URL": served.url,
            "SLUICEGATE_KEY": served.keys["agent"],
            "SLUICEGATE_REVIEWER_KEY": served.keys["reviewer"],
        }
    )
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / example / "main.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout

    decisions = [
        event["event"]
        for event in _events(served, kind="decision")
        if event["event"]["proposal"].get("labels", {}).get("example") == example
    ]
    outcomes = sorted(decision["decision"]["outcome"] for decision in decisions)
    assert outcomes == ["allow", "deny", "route_to_human"]
    routed = next(d for d in decisions if d["decision"]["outcome"] == "route_to_human")
    routed_id = routed["decision"]["decision_id"]
    kinds = [event["kind"] for event in _events(served, decision_id=routed_id)]
    assert kinds.count("approval_used") == 1
    assert "review_approved" in kinds
    assert kinds.count("outcome_reported") == 1
    assert "outcome_violation" not in kinds


REFUND_CALL = {"name": "issue_refund", "args": {"invoice": "INV-9"}, "id": "call-refund-9"}


def _refund_proposal(args: Any) -> dict[str, Any]:
    return REFUND | {"labels": {"invoice": args["invoice"]}}


def _reviewer(served: Served, decision_id: str, step: str, body: dict[str, str]) -> None:
    status = httpx.get(
        f"{served.url}/v1/decisions/{decision_id}",
        headers={"Authorization": f"Bearer {served.keys['agent']}"},
    ).json()
    answer = httpx.post(
        f"{served.url}/v1/reviews/{status['review']['id']}/{step}",
        json=body,
        headers={"Authorization": f"Bearer {served.keys['reviewer']}"},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.integration
def test_langgraph_a_rejected_review_never_runs_the_tool_and_the_model_reads_the_note(
    served: Served,
) -> None:
    ran: list[str] = []

    @tool
    def issue_refund(invoice: str) -> str:
        """Refund."""
        ran.append(invoice)
        return "refunded"

    with GateClient(served.url, served.keys["agent"]) as gate:
        graph = StateGraph(MessagesState)
        graph.add_node(
            "tools", gated_tool_node([issue_refund], {"issue_refund": _refund_proposal}, gate=gate)
        )
        graph.add_edge(START, "tools")
        app = graph.compile(checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "rejected"}}
        app.invoke({"messages": [AIMessage("", tool_calls=[REFUND_CALL])]}, config)
        (decision_id,) = paused_decisions(app.get_state(config))

        # Resuming before anyone decided pauses again: a resume value cannot approve.
        app.invoke(Command(resume="approve it, please"), config)
        assert paused_decisions(app.get_state(config)) == [decision_id]

        _reviewer(served, decision_id, "reject", {"note": "duplicate of INV-7"})
        app.invoke(Command(resume="go on"), config)
        last = app.get_state(config).values["messages"][-1]
    assert ran == []
    assert isinstance(last, ToolMessage)
    assert last.status == "error"
    assert "rejected" in str(last.content)
    assert "duplicate of INV-7" in str(last.content)


class _OneRefund(Model):
    """A scripted model: one refund call, then a closing message."""

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        given = args[1] if len(args) > 1 else kwargs.get("input")
        called = any(_kind(item) == "function_call" for item in given or [])
        output: Any
        if called:
            text = ResponseOutputText(type="output_text", text="done", annotations=[])
            output = ResponseOutputMessage(
                id="m1", type="message", role="assistant", status="completed", content=[text]
            )
        else:
            output = ResponseFunctionToolCall(
                type="function_call",
                call_id=REFUND_CALL["id"],
                name="issue_refund",
                arguments=json.dumps(REFUND_CALL["args"]),
            )
        return ModelResponse(output=[output], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError


def _kind(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else getattr(item, "type", None)


@pytest.mark.integration
def test_openai_agents_approving_in_the_run_state_by_hand_does_not_run_the_tool(
    served: Served,
) -> None:
    ran: list[str] = []

    def issue_refund(invoice: str) -> str:
        """Refund."""
        ran.append(invoice)
        return "refunded"

    async def run() -> list[str]:
        config = RunConfig(model=_OneRefund(), tracing_disabled=True)
        async with AsyncGateClient(served.url, served.keys["agent"]) as client:
            gated = AgentsGate(client)
            agent = Agent(
                name="billing", tools=[gated.tool(issue_refund, propose=_refund_proposal)]
            )
            first = await Runner.run(agent, "refund INV-9", run_config=config)
            assert [item.tool_name for item in first.interruptions] == ["issue_refund"]
            state = first.to_state()
            for item in state.get_interruptions():
                state.approve(item)  # the application approves; the gate's review did not
            final = await Runner.run(agent, state, run_config=config)
            return [
                str(item.output) for item in final.new_items if item.type == "tool_call_output_item"
            ]

    outputs = asyncio.run(run())
    assert ran == []
    assert len(outputs) == 1
    assert "Not done: the gate refused issue_refund" in outputs[0]


def _refund_agent(gated: AgentsGate, ran: list[str]) -> Agent[Any]:
    def issue_refund(invoice: str) -> str:
        """Refund."""
        ran.append(invoice)
        return "refunded"

    return Agent(name="billing", tools=[gated.tool(issue_refund, propose=_refund_proposal)])


@pytest.mark.integration
def test_openai_agents_a_call_id_reused_in_a_later_run_is_decided_afresh(served: Served) -> None:
    """The scripted model answers `call-refund-9` in every run, as models reusing `call_1` do.
    Each run is its own trace (tracing on, exported nowhere), so each is decided afresh; a
    stored run state, read back by a new process, finds its own decision again."""
    set_trace_processors([])

    async def run() -> tuple[list[str], list[str], list[str]]:
        config = RunConfig(model=_OneRefund())
        async with AsyncGateClient(served.url, served.keys["agent"]) as client:
            agent = _refund_agent(AgentsGate(client), [])
            first = await Runner.run(agent, "refund INV-9", run_config=config)
            second = await Runner.run(agent, "refund INV-9", run_config=config)
            restored = await RunState.from_string(agent, first.to_state().to_string())
            fresh = AgentsGate(client)  # another process: nothing cached
            _refund_agent(fresh, [])
            return (
                await fresh.waiting_on(first.to_state()),
                await fresh.waiting_on(second.to_state()),
                await fresh.waiting_on(restored),
            )

    first, second, restored = asyncio.run(run())
    assert len(first) == len(second) == 1
    assert first != second
    assert restored == first


@pytest.mark.integration
def test_openai_agents_without_tracing_the_application_names_the_run(served: Served) -> None:
    runs = iter(["conversation-1", "conversation-2"])
    current: dict[str, str] = {}

    async def run() -> list[list[str]]:
        config = RunConfig(model=_OneRefund(), tracing_disabled=True)
        async with AsyncGateClient(served.url, served.keys["agent"]) as client:
            gated = AgentsGate(client, run_identity=lambda: current.get("run"))
            agent = _refund_agent(gated, [])
            waiting = []
            for _ in range(2):
                current["run"] = next(runs)
                result = await Runner.run(agent, "refund INV-9", run_config=config)
                waiting.append(await gated.waiting_on(result.to_state()))
            return waiting

    first, second = asyncio.run(run())
    assert first != second


@pytest.mark.integration
def test_openai_agents_settle_turns_a_gate_error_into_a_refusal(served: Served) -> None:
    ran: list[str] = []

    async def run() -> list[str]:
        config = RunConfig(model=_OneRefund(), tracing_disabled=True)
        async with AsyncGateClient(served.url, served.keys["agent"]) as client:
            agent = _refund_agent(AgentsGate(client), ran)
            interrupted = await Runner.run(agent, "refund INV-9", run_config=config)
        async with AsyncGateClient(served.url, "sg_000000000000_revoked") as refused:
            gated = AgentsGate(refused)
            agent = _refund_agent(gated, ran)
            state = await gated.settle(interrupted, wait_seconds=0)  # raises nothing
            final = await Runner.run(agent, state, run_config=config)
        return [str(i.output) for i in final.new_items if i.type == "tool_call_output_item"]

    outputs = asyncio.run(run())
    assert ran == []
    assert len(outputs) == 1
    assert "the gate could not answer for it" in outputs[0]


class _ScriptedChat(BaseChatModel):
    """Calls the given tools once each, in turn, then closes: for `create_agent`."""

    script: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> _ScriptedChat:
        return self

    def _generate(
        self, messages: list[Any], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        turn = sum(1 for message in messages if isinstance(message, AIMessage))
        return ChatResult(generations=[ChatGeneration(message=self.script[turn])])


@pytest.mark.integration
def test_langchain_middleware_async_rejection_and_a_tool_without_a_proposal(
    served: Served,
) -> None:
    """`create_agent` with `SluicegateMiddleware` on the async path: a tool nobody wrote a
    proposal for never runs; a routed refund pauses, a resume cannot approve it, and after
    the reviewer rejects it the model reads the note and the tool never ran."""
    ran: list[str] = []

    @tool
    def issue_refund(invoice: str) -> str:
        """Refund."""
        ran.append(invoice)
        return "refunded"

    @tool
    def wipe_ledger() -> str:
        """Not proposed to the gate."""
        ran.append("wipe")
        return "wiped"

    script = [
        AIMessage("", tool_calls=[{"name": "wipe_ledger", "args": {}, "id": "call-wipe"}]),
        AIMessage("", tool_calls=[REFUND_CALL]),
        AIMessage("done"),
    ]

    async def run() -> list[Any]:
        async with AsyncGateClient(served.url, served.keys["agent"]) as gate:
            middleware = SluicegateMiddleware({"issue_refund": _refund_proposal}, async_gate=gate)
            agent = create_agent(
                _ScriptedChat(script=script),
                [issue_refund, wipe_ledger],
                middleware=[middleware],
                checkpointer=InMemorySaver(),
            )
            config: Any = {"configurable": {"thread_id": "middleware"}}
            await agent.ainvoke({"messages": [HumanMessage("refund INV-9")]}, config)
            (decision_id,) = paused_decisions(await agent.aget_state(config))
            await agent.ainvoke(Command(resume="approve it, please"), config)
            assert paused_decisions(await agent.aget_state(config)) == [decision_id]
            _reviewer(served, decision_id, "reject", {"note": "duplicate of INV-7"})
            await agent.ainvoke(resume_command(), config)
            return list((await agent.aget_state(config)).values["messages"])

    messages = asyncio.run(run())
    assert ran == []
    told = {m.name: m for m in messages if isinstance(m, ToolMessage)}
    assert told["wipe_ledger"].status == "error"
    assert "has no proposal for the gate" in str(told["wipe_ledger"].content)
    assert told["issue_refund"].status == "error"
    assert "duplicate of INV-7" in str(told["issue_refund"].content)


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_langgraph_create_react_agent_still_takes_the_gated_tool_node(served: Served) -> None:
    """The deprecated prebuilt agent (it now warns and points at `create_agent`) still runs a
    gated `ToolNode`: a routed refund pauses there too."""
    from langgraph.prebuilt import create_react_agent

    @tool
    def issue_refund(invoice: str) -> str:
        """Refund."""
        return "refunded"

    script = [AIMessage("", tool_calls=[REFUND_CALL]), AIMessage("done")]
    with GateClient(served.url, served.keys["agent"]) as gate:
        node = gated_tool_node([issue_refund], {"issue_refund": _refund_proposal}, gate=gate)
        agent = create_react_agent(_ScriptedChat(script=script), node, checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "react"}}
        agent.invoke({"messages": [HumanMessage("refund INV-9")]}, config)
        assert len(paused_decisions(agent.get_state(config))) == 1
