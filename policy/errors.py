"""The core's exceptions; each carries a stable string code that the service maps to HTTP."""

from __future__ import annotations


class PolicyError(Exception):
    """Base of every error raised by the decision core."""

    code = "policy_error"


class RulePackError(PolicyError):
    """The rule pack cannot be loaded: bad data, a Rego module that does not compile, a bad rule."""

    code = "rule_pack_invalid"


class EngineError(PolicyError):
    """A rule engine failed while evaluating; the decision fails closed."""

    code = "engine_error"

    def __init__(self, engine: str, message: str) -> None:
        super().__init__(f"{engine}: {message}")
        self.engine = engine
