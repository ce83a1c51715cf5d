"""Engine failures fail closed: a raising rule, a slow rule, a broken Rego builtin."""

from __future__ import annotations

import asyncio
from pathlib import Path

from policy.backends import backends_for
from policy.context import Agent
from policy.fail_closed import FailClosedCause
from policy.gate import Gate
from policy.outcome import Outcome
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from tests.fixtures import UNHURRIED_BUDGET_MS

ALLOWED = Proposal.model_validate(
    {"action": {"type": "email.customer.draft", "environment": "sandbox"}}
)


def _gate(rules: Path, budget: float = UNHURRIED_BUDGET_MS / 1000) -> Gate:
    pack = load_rule_pack(rules)
    return Gate(pack, backends_for(pack, "rego-embedded"), budget_seconds=budget)


def _add_rule(rules: Path, body: str) -> None:
    (rules / "python" / "extra.py").write_text(
        "import time\n\nfrom policy.rule_api import RuleInput, Verdict, rule\n\n\n"
        '@rule("test.extra")\n'
        f"def extra(given: RuleInput) -> Verdict | None:\n    {body}\n"
    )


def test_a_python_rule_that_raises_fails_closed(pack_copy: Path, any_agent: Agent) -> None:
    _add_rule(pack_copy, "raise KeyError('oops')")
    gate = _gate(pack_copy)
    decision = gate.decide(ALLOWED, any_agent)
    gate.close()
    assert decision.outcome is Outcome.ROUTE_TO_HUMAN
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_ERROR
    assert "test.extra" in decision.fail_closed.detail


def test_a_rule_beyond_the_time_budget_fails_closed(pack_copy: Path, any_agent: Agent) -> None:
    _add_rule(pack_copy, "time.sleep(2)")
    gate = _gate(pack_copy, budget=0.05)
    decision = gate.decide(ALLOWED, any_agent)
    gate.close()
    assert decision.outcome is Outcome.ROUTE_TO_HUMAN
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_TIMEOUT


def test_the_budget_also_holds_for_async_decisions(pack_copy: Path, any_agent: Agent) -> None:
    _add_rule(pack_copy, "time.sleep(2)")
    gate = _gate(pack_copy, budget=0.05)
    decision = asyncio.run(gate.decide_async(ALLOWED, any_agent))
    gate.close()
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_TIMEOUT


def test_a_failing_rego_builtin_is_an_error_not_undefined(
    pack_copy: Path, any_agent: Agent
) -> None:
    (pack_copy / "rego" / "broken.rego").write_text(
        "package sluicegate.rules.broken\n\nimport rego.v1\n\n"
        "verdicts contains v if {\n"
        '\tx := to_number("not a number")\n'
        '\tv := {"rule": "broken", "outcome": "allow", "message": sprintf("%v", [x])}\n}\n'
    )
    verdicts = pack_copy / "rego" / "verdicts.rego"
    verdicts.write_text(
        verdicts.read_text().rstrip() + " | data.sluicegate.rules.broken.verdicts\n"
    )
    gate = _gate(pack_copy)
    decision = gate.decide(ALLOWED, any_agent)
    gate.close()
    assert decision.outcome is Outcome.ROUTE_TO_HUMAN
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_ERROR


def test_a_malformed_rego_verdict_fails_closed(pack_copy: Path, any_agent: Agent) -> None:
    verdicts = pack_copy / "rego" / "verdicts.rego"
    verdicts.write_text(verdicts.read_text().rstrip() + ' | {{"rule": "x", "outcome": "yes"}}\n')
    gate = _gate(pack_copy)
    decision = gate.decide(ALLOWED, any_agent)
    gate.close()
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_MALFORMED_RESULT
    assert "malformed" in decision.fail_closed.detail


def test_no_verdict_at_all_fails_closed(pack_copy: Path, any_agent: Agent) -> None:
    (pack_copy / "rego" / "verdicts.rego").write_text(
        "package sluicegate\n\nimport rego.v1\n\nverdicts := set()\n"
    )
    for test in (pack_copy / "rego").glob("*_test.rego"):
        test.unlink()
    gate = _gate(pack_copy)
    decision = gate.decide(ALLOWED, any_agent)
    gate.close()
    assert decision.outcome is Outcome.ROUTE_TO_HUMAN
    assert decision.fail_closed is not None
    assert decision.fail_closed.detail == "no rule gave a verdict"
