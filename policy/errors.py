"""The core's exceptions; each carries a stable string code that the service maps to HTTP."""

from __future__ import annotations

from policy.fail_closed import FailClosedCause


class PolicyError(Exception):
    """Base of every error raised by the decision core."""

    code = "policy_error"


class RulePackError(PolicyError):
    """The rule pack cannot be loaded: bad data, a Rego module that does not compile, a bad rule."""

    code = "rule_pack_invalid"


class EngineError(PolicyError):
    """A rule engine failed while evaluating; the decision fails closed.

    `cause` is the fail-closed cause the decision reports; each subclass below is one precise
    way for an engine to fail.
    """

    code = "engine_error"
    cause = FailClosedCause.ENGINE_ERROR

    def __init__(self, engine: str, message: str) -> None:
        super().__init__(f"{engine}: {message}")
        self.engine = engine


class EngineUnavailable(EngineError):
    """The engine cannot be reached (a sidecar down, refusing, or answering with a server error)."""

    cause = FailClosedCause.ENGINE_UNAVAILABLE


class EngineTimeout(EngineError):
    """The engine did not answer within the decision's time budget."""

    cause = FailClosedCause.ENGINE_TIMEOUT


class EngineUndefined(EngineError):
    """The entry point was undefined: no policy loaded, or the rules did not produce verdicts."""

    cause = FailClosedCause.ENGINE_UNDEFINED


class EngineMalformedResult(EngineError):
    """The engine answered, but not with a list of verdicts."""

    cause = FailClosedCause.ENGINE_MALFORMED_RESULT


class PolicyRevisionMismatch(EngineError):
    """The engine decided with another rule-pack revision than the one the gateway serves."""

    cause = FailClosedCause.POLICY_REVISION_MISMATCH
