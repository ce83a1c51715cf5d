"""Python rules: functions from the rule pack, called in definition order."""

from __future__ import annotations

from collections.abc import Sequence

from policy.backends.base import BackendOptions
from policy.context import EvaluationContext
from policy.decision import Reason
from policy.errors import EngineError
from policy.pack_data import PackData
from policy.rule_api import PythonRule, RuleInput, Verdict
from policy.rule_pack import RulePack


class PythonRulesBackend:
    """Runs every Python rule of the pack; a rule that raises fails the whole evaluation."""

    name = "python"

    def __init__(self, rules: Sequence[PythonRule], data: PackData) -> None:
        self._rules = tuple(rules)
        self._data = data

    def evaluate(self, context: EvaluationContext) -> list[Reason]:
        """Every verdict the Python rules give."""
        given = RuleInput(
            proposal=context.proposal,
            assessment=context.assessment,
            agent=context.agent,
            data=self._data,
        )
        reasons = []
        for rule in self._rules:
            try:
                verdict = rule.function(given)
            except Exception as exc:  # a rule's bug must fail closed, whatever it is
                raise EngineError(self.name, f"rule {rule.name} raised {exc!r}") from exc
            if verdict is None:
                continue
            if not isinstance(verdict, Verdict):
                raise EngineError(self.name, f"rule {rule.name} returned {type(verdict).__name__}")
            reasons.append(Reason(rule=rule.name, outcome=verdict.outcome, message=verdict.message))
        return reasons

    def healthy(self) -> bool:
        """In-process: ready as soon as it is built."""
        return True

    def close(self) -> None:
        """Nothing to release."""


def for_pack(pack: RulePack, _options: BackendOptions) -> PythonRulesBackend:
    """The pack's Python rules, in definition order."""
    return PythonRulesBackend(pack.python_rules, pack.data)
