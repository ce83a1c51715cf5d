"""Rule engines behind one interface: embedded Rego and Python rules."""

from policy.engines.base import RuleEngine
from policy.engines.python_rules import PythonRuleEngine
from policy.engines.rego_embedded import EmbeddedRegoEngine
from policy.rule_pack import RulePack

__all__ = [
    "EmbeddedRegoEngine",
    "PythonRuleEngine",
    "RuleEngine",
    "embedded_engines",
    "with_python_rules",
]


def with_python_rules(rego: RuleEngine, pack: RulePack) -> list[RuleEngine]:
    """A pack's engines: its Rego engine first (it names the decision's engine), then its
    Python rules."""
    return [rego, PythonRuleEngine(pack.python_rules, pack.data)]


def embedded_engines(pack: RulePack) -> list[RuleEngine]:
    """The zero-setup engines for a pack: embedded Rego and the pack's Python rules."""
    return with_python_rules(EmbeddedRegoEngine(pack.rego_modules, pack.raw_data), pack)
