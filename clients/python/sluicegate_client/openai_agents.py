"""OpenAI Agents SDK: tools that pass the gate (extra `openai-agents`).

    gated = AgentsGate(async_gate)
    refund = gated.tool(issue_refund, propose=lambda args: {...})   # a FunctionTool
    agent = Agent(name="billing", tools=[refund], ...)

Each call is decided once: the idempotency key is a digest of the run's identity, the tool
call's id and its arguments, so asking again for the same call, in this process or after a
restart, gets the same decision back, while a model that reuses a call id (`call_1`) in a
later run, or with other arguments, is decided afresh. The run's identity is its trace id,
which the SDK gives every run and keeps across a resume from a `RunState`; with tracing
disabled there is none, so pass `run_identity` (e.g. your conversation's id) or keep
tracing on with no processors (`agents.set_trace_processors([])`). The SDK's own hooks act
on the decision:

- `needs_approval`: true when the gate routes the call to a human, so the run stops with an
  interruption (`result.interruptions`) instead of running the tool;
- a tool input guardrail: a denial rejects the call, and the model reads the rules' reasons;
- the tool itself runs only when the gate says allow or sample, or when the review was
  approved, in which case the approval is used (`proceed`) first; its outcome is reported.

`settle(result, ...)` waits (by long poll) for the reviews an interrupted run waits on and
approves or rejects each call in the run state as the reviewers did; `Runner.run(agent,
state)` then carries on. A review still open after the wait leaves its call undecided, so the
run is parked, not failed: keep `state.to_string()` and settle it later. A call the gate
cannot answer for (unreachable, or refusing the key) is rejected with a message saying so;
`settle` raises nothing. Approving a call in the run state by hand does not let the tool
run: the gate's review decides.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from agents import (
    FunctionTool,
    RunContextWrapper,
    RunResult,
    RunState,
    ToolGuardrailFunctionOutput,
    ToolInputGuardrailData,
    function_tool,
    tool_input_guardrail,
)
from agents.items import ToolApprovalItem
from agents.tool_context import ToolContext
from agents.tracing import get_current_trace

from sluicegate_client.errors import ActionDenied, GateError
from sluicegate_client.http import (
    DEFAULT_WAIT_SECONDS,
    AsyncGateClient,
    ProposalBody,
    Reported,
    keyed,
)
from sluicegate_client.models import ActionStatus, Decision, DecisionStatus, Outcome

log = logging.getLogger(__name__)
# The tool's arguments → the proposal the gate decides.
ToolProposal = Callable[[Mapping[str, Any]], ProposalBody]
# The run a call belongs to, when the SDK's trace cannot say (tracing disabled).
RunIdentity = Callable[[], str | None]
KEY_PREFIX = "openai-agents:"
# What the SDK's trace id is when tracing is disabled: no identity at all.
_NO_TRACE = "no-op"


def _arguments(raw: str | None) -> dict[str, Any]:
    parsed = json.loads(raw or "{}")
    return parsed if isinstance(parsed, dict) else {}


def _refusal(tool_name: str, error: ActionDenied | GateError | str) -> str:
    return f"Not done: the gate refused {tool_name}. {error}"


def _not_approved(tool_name: str, status: DecisionStatus) -> str:
    """Why a routed call may not run now: still pending, or denied, rejected or expired."""
    if status.status is ActionStatus.PENDING_REVIEW:
        return _refusal(tool_name, f"still pending review ({status.decision_id})")
    return _refusal(tool_name, ActionDenied(status))


def _unanswered(tool_name: str, error: GateError) -> str:
    return _refusal(tool_name, f"the gate could not answer for it ({error}); it did not run")


def idempotency_key(run: str | None, call_id: str, arguments: Mapping[str, Any]) -> str:
    """The key a call is decided under: the same run, call id and arguments, the same key."""
    named = json.dumps([run, call_id, arguments], sort_keys=True, separators=(",", ":"))
    return KEY_PREFIX + hashlib.sha256(named.encode()).hexdigest()


def _current_run() -> str | None:
    trace = get_current_trace()
    trace_id = trace.trace_id if trace is not None else None
    return trace_id if trace_id and trace_id != _NO_TRACE else None


def _run_of(state: RunState[Any, Any]) -> str | None:
    """The trace id the run state carries (the SDK reattaches it when the run resumes)."""
    trace = state.to_json().get("trace") or {}
    trace_id = trace.get("id")
    return trace_id if isinstance(trace_id, str) and trace_id != _NO_TRACE else None


class AgentsGate:
    """Makes function tools whose every call passes the gate first."""

    def __init__(self, gate: AsyncGateClient, *, run_identity: RunIdentity | None = None) -> None:
        self._gate = gate
        self._proposals: dict[str, ToolProposal] = {}
        # Decisions already asked for in this process, by idempotency key.
        self._decided: dict[str, Decision] = {}
        self._run_identity = run_identity

    def tool(
        self,
        function: Callable[..., Any],
        *,
        propose: ToolProposal,
        name: str | None = None,
        **function_tool_options: Any,
    ) -> FunctionTool:
        """`function` as an SDK tool (as `@function_tool` makes it), gated."""
        tool = function_tool(function, name_override=name, **function_tool_options)
        self._proposals[tool.name] = propose
        run = tool.on_invoke_tool

        async def needs_approval(
            _: RunContextWrapper[Any], args: dict[str, Any], call: str
        ) -> bool:
            try:
                decision = await self._decide(tool.name, args, call, _current_run())
            except GateError:
                return True  # the gate cannot answer: a person must look, never an allow
            return decision.outcome is Outcome.ROUTE_TO_HUMAN

        async def refuse_denied(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
            context = data.context
            arguments = _arguments(context.tool_arguments)
            try:
                decision = await self._decide(
                    tool.name, arguments, context.tool_call_id, _current_run()
                )
            except GateError as error:
                return ToolGuardrailFunctionOutput.reject_content(_refusal(tool.name, error))
            if decision.outcome is Outcome.DENY:
                message = _refusal(tool.name, ActionDenied(decision))
                return ToolGuardrailFunctionOutput.reject_content(message)
            return ToolGuardrailFunctionOutput.allow()

        async def gated_run(context: ToolContext[Any], raw_arguments: str) -> Any:
            return await self._run(tool.name, context.tool_call_id, raw_arguments, context, run)

        tool.needs_approval = needs_approval
        guardrail = tool_input_guardrail(name=f"sluicegate:{tool.name}")(refuse_denied)
        tool.tool_input_guardrails = [*(tool.tool_input_guardrails or []), guardrail]
        tool.on_invoke_tool = gated_run
        return tool

    def _key(self, run: str | None, call_id: str, args: Mapping[str, Any]) -> str:
        if self._run_identity is not None:
            run = self._run_identity() or run
        return idempotency_key(run, call_id, args)

    async def _decide(
        self, tool_name: str, args: Mapping[str, Any], call_id: str, run: str | None
    ) -> Decision:
        key = self._key(run, call_id, args)
        if key not in self._decided:
            proposal = keyed(self._proposals[tool_name](args), key=key)
            self._decided[key] = await self._gate.decide(proposal)
        return self._decided[key]

    async def _run(
        self,
        tool_name: str,
        call_id: str,
        raw_arguments: str,
        context: ToolContext[Any],
        run: Callable[[ToolContext[Any], str], Awaitable[Any]],
    ) -> Any:
        """Run the tool only as the gate allows, at most once, and report what happened."""
        arguments = _arguments(raw_arguments)
        try:
            decision = await self._decide(tool_name, arguments, call_id, _current_run())
            if decision.outcome is Outcome.DENY:
                return _refusal(tool_name, ActionDenied(decision))
            if decision.outcome is Outcome.ROUTE_TO_HUMAN:
                status = await self._gate.get(decision.decision_id)
                if status.status is not ActionStatus.APPROVED:
                    return _not_approved(tool_name, status)
                key = self._key(_current_run(), call_id, arguments)
                proposal = keyed(self._proposals[tool_name](arguments), key=key)
                await self._gate.proceed(decision.decision_id, proposal)
        except GateError as error:
            return _refusal(tool_name, error)
        started = time.monotonic()
        try:
            result = await run(context, raw_arguments)
        except Exception:
            await self._report(decision.decision_id, "failed", call_id, started)
            raise
        await self._report(decision.decision_id, "executed", call_id, started)
        return result

    async def _report(
        self, decision_id: str, status: Reported, call_id: str, started: float
    ) -> None:
        # The tool has run: a lost report must not fail the call (the model would retry it).
        took = int((time.monotonic() - started) * 1000)
        try:
            await self._gate.report(
                decision_id, status, artifact={"tool_call_id": call_id}, duration_ms=took
            )
        except GateError as error:
            log.warning("the outcome could not be reported: %s", error)

    async def settle(
        self,
        result: RunResult | RunState[Any, Any],
        *,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> RunState[Any, Any]:
        """The run state with every interrupted call approved or rejected as its review was;
        a review still open after `wait_seconds` leaves its call undecided (the run parks)."""
        state = result.to_state() if isinstance(result, RunResult) else result
        run = _run_of(state)
        for item in state.get_interruptions():
            tool_name = item.tool_name or "the tool"
            try:
                decision = await self._decision_of(item, run)
                if decision is None:
                    continue  # not one of ours: the application decides it
                status = await self._gate.wait_for_review(decision.decision_id, wait_seconds)
            except GateError as error:
                state.reject(item, rejection_message=_unanswered(tool_name, error))
                continue
            if status.status is ActionStatus.APPROVED:
                state.approve(item)
            elif status.status is not ActionStatus.PENDING_REVIEW:
                state.reject(item, rejection_message=_not_approved(tool_name, status))
        return state

    async def waiting_on(self, state: RunState[Any, Any]) -> list[str]:
        """The decision ids whose reviews an interrupted run waits on."""
        run = _run_of(state)
        found = [await self._decision_of(item, run) for item in state.get_interruptions()]
        return [decision.decision_id for decision in found if decision is not None]

    async def _decision_of(self, item: ToolApprovalItem, run: str | None) -> Decision | None:
        call_id = getattr(item.raw_item, "call_id", None)
        if item.tool_name not in self._proposals or not isinstance(call_id, str):
            return None
        arguments = _arguments(item.arguments)
        return await self._decide(item.tool_name, arguments, call_id, run)
