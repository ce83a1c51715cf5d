"""Rule engines behind one interface: embedded Rego and Python rules."""

from policy.engines.base import RuleEngine
from policy.engines.python_rules import PythonRuleEngine
from policy.engines.rego_embedded import EmbeddedRegoEngine

__all__ = ["EmbeddedRegoEngine", "PythonRuleEngine", "RuleEngine"]
