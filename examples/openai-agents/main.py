"""An OpenAI Agents SDK agent whose tools pass the Sluicegate gate.

    SLUICEGATE_URL=http://127.0.0.1:8000 SLUICEGATE_KEY=sg_… SLUICEGATE_REVIEWER_KEY=sg_… \
        python examples/openai-agents/main.py

The model is scripted (no network, no API key, tracing off); the rest is the SDK's own
runtime: an `Agent`, `Runner.run`, tools from `sluicegate_client.openai_agents`. The model
looks something up (allowed: the tool runs), then asks for a 5,000 USD refund (routed to
finance-approvers: the SDK's `needs_approval` interrupts the run). The run state is parked
as a string, as a service would store it, then restored; `settle` long-polls the review
while the reviewer key approves it, standing in for a person; the run carries on, the refund
runs once through `proceed` and its outcome is reported. Last, the model tries to export
customer data to a personal Dropbox: the gate denies it, the tool never runs, and the model
reads why. It exits 0 only when all of that held.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agents import Agent, ModelResponse, RunConfig, Runner, RunState, Tool, Usage
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)
from sluicegate_client import AsyncGateClient
from sluicegate_client.openai_agents import AgentsGate

sys.path.insert(0, str(Path(__file__).parents[1]))
from demo_support import BillingTools, Demo, Ledger, proposals, verdict

# Tool call ids are unique per run, as a real model's are: they key the gate's decisions.
RUN = uuid.uuid4().hex[:12]
SCRIPT: list[tuple[str, dict[str, Any]] | str] = [
    ("search_knowledge", {"query": "refund policy"}),
    ("issue_refund", {"invoice": "INV-2211", "amount_usd": 5000}),
    ("export_customers", {"destination": "dropbox://personal"}),
    "Refunded INV-2211; the export was refused by policy.",
]


class ScriptedModel(Model):
    """Answers with the script's next step: which one follows from the tool calls so far."""

    async def get_response(
        self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        items = input if isinstance(input, list) else []
        turn = sum(1 for item in items if _kind(item) == "function_call")
        step = SCRIPT[turn]
        if isinstance(step, str):
            text = ResponseOutputText(type="output_text", text=step, annotations=[])
            output: Any = ResponseOutputMessage(
                id=f"msg-{turn}",
                type="message",
                role="assistant",
                status="completed",
                content=[text],
            )
        else:
            name, arguments = step
            output = ResponseFunctionToolCall(
                type="function_call",
                id=f"fc-{turn}",
                call_id=f"call-{RUN}-{turn}",
                name=name,
                arguments=json.dumps(arguments),
            )
        return ModelResponse(output=[output], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the example does not stream")


def _kind(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else getattr(item, "type", None)


def agent_tools(gated: AgentsGate, ledger: Ledger) -> list[Tool]:
    """The billing tools, each gated with its proposal."""
    made = proposals("openai-agents")
    return [gated.tool(f, propose=made[f.__name__]) for f in BillingTools(ledger).all()]


async def run(demo: Demo, ledger: Ledger) -> dict[str, Any]:
    """Run until the interruption, park, settle while a person approves, carry on."""
    config = RunConfig(model=ScriptedModel(), tracing_disabled=True)
    async with AsyncGateClient(demo.url, demo.agent_key) as gate:
        gated = AgentsGate(gate)
        agent = Agent(
            name="billing",
            instructions="Resolve billing disputes.",
            tools=agent_tools(gated, ledger),
        )
        first = await Runner.run(agent, "Customer on WI-981 was charged twice.", run_config=config)
        interrupted = [item.tool_name for item in first.interruptions]
        refund_ran_before_approval = ledger.runs("issue_refund")
        parked = first.to_state().to_string()  # what a service would keep while it waits
        state: RunState[Any, Any] = await RunState.from_string(agent, parked)
        paused = await gated.waiting_on(state)

        async def person_approves() -> None:
            await asyncio.sleep(0.5)  # the agent is already waiting on the review
            await asyncio.to_thread(demo.approve, paused[0], "checked the duplicate charge")

        settled, _ = await asyncio.gather(gated.settle(state, wait_seconds=30), person_approves())
        final = await Runner.run(agent, settled, run_config=config)
    return {
        "interrupted": interrupted,
        "paused": paused,
        "refund_ran_before_approval": refund_ran_before_approval,
        "final_output": final.final_output,
        "still_interrupted": len(final.interruptions),
        "tool_outputs": [
            str(item.output)
            for item in final.new_items
            if getattr(item, "type", "") == "tool_call_output_item"
        ],
    }


def main() -> int:
    demo = Demo.from_environment()
    with tempfile.TemporaryDirectory() as directory:
        ledger = Ledger(Path(directory) / "ledger.jsonl")
        outcome = asyncio.run(run(demo, ledger))
        print(json.dumps(outcome))
        paused = outcome["paused"]
        denial = [text for text in outcome["tool_outputs"] if "export_customers" in text]
        return verdict(
            {
                "the low-risk tool ran": ledger.runs("search_knowledge") == 1,
                "the refund paused for a person": outcome["interrupted"] == ["issue_refund"]
                and outcome["refund_ran_before_approval"] == 0,
                "after approval the refund ran exactly once": ledger.runs("issue_refund") == 1,
                "its outcome was reported": bool(paused)
                and demo.status(paused[0]) in {"executed", "verified"},
                "the denied export never ran": ledger.runs("export_customers") == 0,
                "the model read why it was denied": bool(denial) and "denied" in denial[0],
                "the run finished": outcome["still_interrupted"] == 0
                and outcome["final_output"] == SCRIPT[-1],
            }
        )


if __name__ == "__main__":
    sys.exit(main())
