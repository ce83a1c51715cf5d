"""The core's exceptions; each carries a stable string code that the service maps to HTTP."""

from __future__ import annotations


class PolicyError(Exception):
    """Base of every error raised by the decision core."""

    code = "policy_error"


class RulePackError(PolicyError):
    """The rule pack cannot be loaded: bad data, a Rego module that does not compile, a bad rule."""

    code = "rule_pack_invalid"


class EngineError(PolicyError):
    """A rule engine failed while evaluating; the decision fails closed.

    `cause` names the fail-closed cause the decision reports (a `FailClosedCause` value);
    each subclass below is one precise way for an engine to fail.
    """

    code = "engine_error"
    cause = "engine_error"

    def __init__(self, engine: str, message: str) -> None:
        super().__init__(f"{engine}: {message}")
        self.engine = engine


class EngineUnavailable(EngineError):
    """The engine cannot be reached (a sidecar down, refusing, or answering with a server error)."""

    cause = "engine_unavailable"


class EngineTimeout(EngineError):
    """The engine did not answer within the decision's time budget."""

    cause = "engine_timeout"


class EngineUndefined(EngineError):
    """The entry point was undefined: no policy loaded, or the rules did not produce verdicts."""

    cause = "engine_undefined"


class EngineMalformedResult(EngineError):
    """The engine answered, but not with a list of verdicts."""

    cause = "engine_malformed_result"


class PolicyRevisionMismatch(EngineError):
    """The engine decided with another rule-pack revision than the one the gateway serves."""

    cause = "policy_revision_mismatch"
