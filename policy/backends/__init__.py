"""Rule evaluation backends behind one interface: embedded Rego, an OPA server, Python rules."""

from policy.backends.base import BackendOptions, EvaluationBackend
from policy.backends.registry import BACKENDS, backends_for

__all__ = ["BACKENDS", "BackendOptions", "EvaluationBackend", "backends_for"]
