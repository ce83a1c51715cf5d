"""What a ten times larger rule pack costs per decision.

The default pack has 3 Rego rules, 2 Python rules and 15 catalog entries. The grown pack
adds 27 Rego rules (9 modules), 18 Python rules and 135 catalog entries, about action types
of their own, as a larger organisation's pack would: on every decision they are all
evaluated, and none of them fires for the measured proposals. Prints, for each pack, the
median cost of the gate's decision (embedded Rego, in process) and of a decision with its
durable record (the embedded gate on SQLite), and the ratios, measured in one run.

    python -m bench.pack_growth
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from policy.context import Agent
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.embedded import open_gate
from service.engines import build_gate
from service.settings import Settings, bundled_rules
from tests.fixtures import REFUND

GROWTH = 9  # copies added to the default pack's rules: 10x in all
ROUNDS = 400
PROPOSALS: dict[str, dict[str, Any]] = {
    "refund (routed)": REFUND,
    "draft (allowed)": {"action": {"type": "email.customer.draft", "environment": "sandbox"}},
}

_REGO = """package sluicegate.rules.grown_{k}

import rego.v1

verdicts contains verdict if {{
	input.proposal.action.type == "grown{k}.thing.write"
	input.proposal.action.environment == "production"
	verdict := {{"rule": "grown{k}.production_write", "outcome": "route_to_human",
		"message": sprintf("%s in production", [input.proposal.action.type])}}
}}

verdicts contains verdict if {{
	startswith(input.proposal.action.type, "grown{k}.")
	input.proposal.action.amount.value > 100
	verdict := {{"rule": "grown{k}.amount", "outcome": "route_to_human",
		"message": sprintf("amount %v", [input.proposal.action.amount.value])}}
}}

verdicts contains verdict if {{
	startswith(input.proposal.action.type, "grown{k}.")
	target := object.get(input.proposal.action, "target", "(none)")
	not target in data.sluicegate.limits.approved_export_targets
	verdict := {{"rule": "grown{k}.target", "outcome": "deny",
		"message": sprintf("target %s", [target])}}
}}
"""

_PYTHON = '''"""Grown rules {k} (bench/pack_growth.py)."""

from policy.rule_api import Outcome, RuleInput, Verdict, rule


@rule("grown{k}.confidence")
def low_confidence(given: RuleInput) -> Verdict | None:
    """Low confidence on this group's actions."""
    if not given.proposal.action.type.startswith("grown{k}."):
        return None
    if (given.proposal.confidence or 1.0) >= 0.8:
        return None
    return Verdict(rule="grown{k}.confidence", outcome=Outcome.ROUTE_TO_HUMAN, message="low")


@rule("grown{k}.bulk")
def bulk(given: RuleInput) -> Verdict | None:
    """Many changes on this group's actions."""
    if not given.proposal.action.type.startswith("grown{k}."):
        return None
    if len(given.proposal.changes) <= 5:
        return None
    return Verdict(rule="grown{k}.bulk", outcome=Outcome.ROUTE_TO_HUMAN, message="bulk")
'''


def grown_pack(target: Path) -> Path:
    """The default pack with GROWTH more groups of rules and catalog entries."""
    shutil.copytree(bundled_rules(), target, ignore=shutil.ignore_patterns("__pycache__"))
    union = [
        "data.sluicegate.rules.autonomy.verdicts",
        "data.sluicegate.rules.data_handling.verdicts",
    ]
    catalog = (target / "data" / "catalog.yaml").read_text()
    for k in range(GROWTH):
        (target / "rego" / f"grown_{k}.rego").write_text(_REGO.format(k=k))
        (target / "python" / f"grown_{k}.py").write_text(_PYTHON.format(k=k))
        union.append(f"data.sluicegate.rules.grown_{k}.verdicts")
        for i in range(15):
            catalog += (
                f"\ngrown{k}.thing.e{i}:\n  description: A grown action type.\n"
                "  effect: write\n  reversibility: reversible\n  owner_queue: sales-ops\n"
            )
    (target / "data" / "catalog.yaml").write_text(catalog)
    verdicts = (target / "rego" / "verdicts.rego").read_text()
    start = verdicts.index("verdicts :=")
    (target / "rego" / "verdicts.rego").write_text(
        verdicts[:start] + "verdicts := " + " | ".join(union) + "\n"
    )
    return target


def _median_us(call: Any) -> float:
    for _ in range(50):
        call()
    seconds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1e6


def _measure(rules: Path, folder: Path) -> dict[str, float]:
    pack = load_rule_pack(rules)
    gate = build_gate(Settings(rules=rules), pack)
    agent = Agent(id="a", name="bench", scopes=("*",))
    found: dict[str, float] = {}
    try:
        for name, body in PROPOSALS.items():
            proposal = Proposal.model_validate(body)
            found[f"gate: {name}"] = _median_us(lambda p=proposal: gate.decide(p, agent))
    finally:
        gate.close()
    embedded = open_gate(database_url=f"sqlite:///{folder / (rules.name + '.db')}", rules=rules)
    try:
        for name, body in PROPOSALS.items():
            found[f"durable: {name}"] = _median_us(lambda b=body: embedded.decide(b, agent="bench"))
    finally:
        embedded.close()
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        default = _measure(bundled_rules(), folder)
        grown = _measure(grown_pack(folder / "grown"), folder)
    print(f"{'median per decision':<28} {'default':>10} {'10x pack':>10} {'ratio':>7}")
    for name, base in default.items():
        print(f"{name:<28} {base:>8.0f}us {grown[name]:>8.0f}us {grown[name] / base:>6.2f}x")


if __name__ == "__main__":
    main()
