"""Golden decision cases: YAML data (`note`, `proposal`, `want`) checked against any gate; a
pack's canaries are cases too (each must reach its queue as a review)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from policy.decision import Decision
from policy.errors import RulePackError
from policy.fail_closed import FailClosedCause
from policy.outcome import Outcome
from policy.pack_data import Canaries, Reversibility
from policy.proposal import Proposal


class Want(BaseModel):
    """What the decision must say; fields left out are not checked."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    risk_tier: int | None = None
    reversibility: Reversibility | None = None
    queue: str | None = None
    fail_closed: FailClosedCause | None = None
    rules: list[str] = []  # rules that must be among the reasons
    sample_rate: float | None = None


class GoldenCase(BaseModel):
    """One case: a note for the reader, the proposal, the agent's scopes and what we want."""

    model_config = ConfigDict(extra="forbid")

    note: str
    scopes: list[str] = ["*"]
    proposal: Proposal
    want: Want

    @property
    def id(self) -> str:
        """A test id made of the note."""
        return self.note.lower().replace(" ", "-")[:80]


def load_cases(folder: Path) -> list[GoldenCase]:
    """Every case of every YAML file in the folder, in file order."""
    cases: list[GoldenCase] = []
    for file in sorted(folder.glob("*.yaml")):
        try:
            items = yaml.safe_load(file.read_text(encoding="utf-8")) or []
            cases.extend(GoldenCase.model_validate(item) for item in items)
        except (yaml.YAMLError, ValidationError) as exc:
            raise RulePackError(f"golden cases in {file} are invalid: {exc}") from exc
    return cases


def canary_cases(canaries: Canaries) -> list[GoldenCase]:
    """One case per canary: its proposal must be routed to a person in its queue, or the
    seeder could not seed it (it is a review or nothing)."""
    return [
        GoldenCase(
            note=f"canary {canary.id} reaches {canary.queue}",
            proposal=Proposal.model_validate(canary.proposal),
            want=Want(outcome=Outcome.ROUTE_TO_HUMAN, queue=canary.queue),
        )
        for canary in canaries.canaries
    ]


def mismatches(case: GoldenCase, decision: Decision) -> list[str]:
    """How the decision differs from what the case wants; empty when it matches."""
    want = case.want
    found: list[str] = []

    def differ(name: str, wanted: object, got: object) -> None:
        if wanted is not None and wanted != got:
            found.append(f"{name}: want {wanted}, got {got}")

    differ("outcome", want.outcome, decision.outcome)
    differ("risk_tier", want.risk_tier, decision.risk_tier)
    differ("reversibility", want.reversibility, decision.reversibility)
    differ("queue", want.queue, decision.review.queue if decision.review else None)
    differ("fail_closed", want.fail_closed, decision.fail_closed and decision.fail_closed.cause)
    differ("sample_rate", want.sample_rate, decision.sample and decision.sample.rate)
    given = {reason.rule for reason in decision.reasons}
    for rule in want.rules:
        if rule not in given:
            found.append(f"rules: want {rule} among {sorted(given)}")
    return found
