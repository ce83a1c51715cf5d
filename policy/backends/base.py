"""The rule-engine interface and the shared reading of Rego verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from policy.context import EvaluationContext
from policy.decision import Reason
from policy.errors import EngineMalformedResult


class EvaluationBackend(Protocol):
    """Evaluates one rule pack.

    Lifecycle: built once per rule pack (compiling whatever it needs), then `evaluate` is called
    from many worker threads at once, so an engine keeps per-thread state itself; `close` frees
    it when the pack is replaced or the gate stops. `evaluate` raises `EngineError` on any
    failure; it never guesses.
    """

    name: str

    def evaluate(self, context: EvaluationContext) -> list[Reason]:
        """Every verdict the engine's rules give for this proposal."""
        ...

    def healthy(self) -> bool:
        """Whether the engine can decide now (a sidecar answers and holds the pack)."""
        ...

    def close(self) -> None:
        """Release compiled state and threads' resources."""
        ...


@dataclass(frozen=True)
class BackendOptions:
    """What a backend may be configured with; each backend reads the fields it needs."""

    # How long one evaluation may take; a remote backend uses it as its request timeout.
    timeout_seconds: float = 0.25
    # The OPA server (backend `opa`): where it listens, its bearer token, the bundle name its
    # configuration gives the gateway's bundle, and whether the gateway pushes the pack to it.
    opa_url: str = "http://127.0.0.1:8181"
    opa_token: str | None = None
    opa_bundle: str = "sluicegate"
    opa_push: bool = False


_REASONS = TypeAdapter(list[Reason])


def read_verdicts(engine: str, raw: Any) -> list[Reason]:
    """Validate a Rego result (a set serialised as an array) into reasons in a stable order."""
    try:
        reasons = _REASONS.validate_python(raw)
    except ValidationError as exc:
        detail = f"malformed verdicts: {exc.errors()[0]['msg']}"
        raise EngineMalformedResult(engine, detail) from exc
    return sorted(reasons, key=lambda r: (r.rule, r.outcome.severity, r.message))
