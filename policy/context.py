"""What every rule engine evaluates: the proposal, the gate's assessment and the agent."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from policy.assessment import Assessment
from policy.proposal import Proposal


class Agent(BaseModel):
    """The agent making the proposal, as its credential says (never as the body says)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationContext:
    """One proposal ready for the engines; `document` is the JSON input Rego sees."""

    proposal: Proposal
    assessment: Assessment
    agent: Agent

    @cached_property
    def document(self) -> dict[str, Any]:
        """The input document: `input.proposal`, `input.assessment`, `input.agent`."""
        return {
            "proposal": self.proposal.document(),
            "assessment": self.assessment.model_dump(mode="json"),
            "agent": {"id": self.agent.id, "name": self.agent.name},
        }
