"""Rule evaluation backends behind one interface: embedded Rego, an OPA server, Python rules."""

# regopy must be loaded before frozenlist's C extension (which opa-python-client brings in
# through aiohttp): loaded the other way round, regopy's bundle save aborts the process
# ("free(): invalid pointer"). Importing it here, first, holds whatever imports come later;
# tests/policy/test_backends.py checks it in a fresh interpreter.
import regopy  # noqa: F401  # isort: skip

from policy.backends.base import BackendOptions, EvaluationBackend
from policy.backends.registry import BACKENDS, backends_for

__all__ = ["BACKENDS", "BackendOptions", "EvaluationBackend", "backends_for"]
