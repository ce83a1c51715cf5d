"""The public API for Python rules: the only module of ours a rule file may import.

A rule is a function decorated with `@rule("area.name")` that takes a `RuleInput` and returns a
`Verdict`, or None when it has nothing to say::

    from policy.rule_api import Outcome, RuleInput, Verdict, rule

    @rule("money.irreversible_over_limit")
    def irreversible_over_limit(given: RuleInput) -> Verdict | None:
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from policy.assessment import Assessment
from policy.context import Agent
from policy.outcome import Outcome
from policy.pack_data import Effect, PackData, Reversibility
from policy.proposal import Environment, Proposal

__all__ = [
    "Agent",
    "Assessment",
    "Effect",
    "Environment",
    "Outcome",
    "PackData",
    "Proposal",
    "Reversibility",
    "RuleInput",
    "Verdict",
    "rule",
]


class Verdict(BaseModel):
    """A rule's answer: an outcome and a message a reviewer can read."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    message: str


class RuleInput(BaseModel):
    """Everything a Python rule may look at."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    proposal: Proposal
    assessment: Assessment
    agent: Agent
    data: PackData


RuleFunction = Callable[[RuleInput], Verdict | None]


@dataclass(frozen=True)
class PythonRule:
    """A decorated rule function and the name its verdicts carry."""

    name: str
    function: RuleFunction


_MARK = "__sluicegate_rule__"


def rule(name: str) -> Callable[[RuleFunction], RuleFunction]:
    """Mark a function as a rule; the pack loader collects marked functions from rule files."""

    def mark(function: RuleFunction) -> RuleFunction:
        setattr(function, _MARK, PythonRule(name=name, function=function))
        return function

    return mark


def rules_in(namespace: Iterable[Any]) -> list[PythonRule]:
    """The rules marked among the given objects (a module's values), in definition order."""
    return [
        found for obj in namespace if isinstance(found := getattr(obj, _MARK, None), PythonRule)
    ]
