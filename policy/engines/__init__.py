"""Rule engines behind one interface: embedded Rego and Python rules."""

from policy.engines.base import RuleEngine
from policy.engines.python_rules import PythonRuleEngine
from policy.engines.rego_embedded import EmbeddedRegoEngine
from policy.rule_pack import RulePack

__all__ = ["EmbeddedRegoEngine", "PythonRuleEngine", "RuleEngine", "embedded_engines"]


def embedded_engines(pack: RulePack) -> list[RuleEngine]:
    """The zero-setup engines for a pack: embedded Rego first (it names the decision's engine),
    then the pack's Python rules."""
    return [
        EmbeddedRegoEngine(pack.rego_modules, pack.raw_data),
        PythonRuleEngine(pack.python_rules, pack.data),
    ]
