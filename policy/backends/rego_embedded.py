"""Embedded Rego on regopy (Microsoft's rego-cpp): compiled once, one interpreter per thread."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import regopy
from regopy.rego_shared import rego_get_error

from policy.backends.base import BackendOptions, read_verdicts
from policy.context import EvaluationContext
from policy.decision import Reason
from policy.errors import EngineError, EngineMalformedResult, EngineUndefined, RulePackError
from policy.rule_pack import RulePack

VERDICTS_QUERY = "verdicts := data.sluicegate.verdicts"


def _interpreter() -> Any:
    interpreter = regopy.Interpreter()
    # An unsupported or failing builtin must be an error, never a silent "undefined".
    interpreter.strict_built_in_errors = True
    return interpreter


def _error_of(interpreter: Any) -> str:
    # regopy's Output.__str__ crashes on a failed output; the interpreter holds the message.
    return str(rego_get_error(interpreter._impl)).strip() or "unknown rego error"


class EmbeddedRegoBackend:
    """Compiles the pack's Rego and data into a bundle once; each thread loads it once.

    A single interpreter shared between threads gives wrong answers, so every worker thread
    gets its own, loaded from the compiled bundle (not recompiled from source).
    """

    name = "rego-embedded"

    def __init__(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        builder = _interpreter()
        try:
            for module_name, source in sorted(modules.items()):
                builder.add_module(module_name, source)
            builder.add_data_json(json.dumps(data))
            bundle = builder.build(VERDICTS_QUERY)
        except regopy.RegoError as exc:
            raise RulePackError(f"Rego does not compile: {exc}") from exc
        if not bundle.ok():
            raise RulePackError(f"Rego does not compile: {_error_of(builder)}")
        self._dir = tempfile.TemporaryDirectory(prefix="sluicegate-rego-")
        self._bundle_path = str(Path(self._dir.name) / "pack")
        # The JSON format, not the binary one: regopy 1.5.2's binary round trip keeps the quotes
        # of data strings (sprintf("%s", [data.x]) gives "\"x\"") and breaks the output JSON.
        builder.save_bundle(self._bundle_path, bundle, regopy.BundleFormat.JSON)
        self._local = threading.local()

    def _thread_state(self) -> tuple[Any, Any]:
        state = getattr(self._local, "state", None)
        if state is None:
            interpreter = _interpreter()
            bundle = interpreter.load_bundle(self._bundle_path, regopy.BundleFormat.JSON)
            state = self._local.state = (interpreter, bundle)
        return state

    def evaluate(self, context: EvaluationContext) -> list[Reason]:
        """The verdicts of `data.sluicegate.verdicts` for this proposal."""
        interpreter, bundle = self._thread_state()
        try:
            interpreter.set_input_term(json.dumps(context.document))
            output = interpreter.query_bundle(bundle)
        except regopy.RegoError as exc:
            raise EngineError(self.name, str(exc)) from exc
        except ValueError as exc:  # regopy wrote output that is not JSON (see docs/rules.md)
            raise EngineMalformedResult(self.name, f"output is not JSON: {exc}") from exc
        if not output.ok():
            raise EngineError(self.name, _error_of(interpreter))
        if not output.results or "verdicts" not in output.results[0].bindings:
            raise EngineUndefined(self.name, "data.sluicegate.verdicts is undefined")
        return read_verdicts(self.name, output.results[0].bindings["verdicts"])

    def healthy(self) -> bool:
        """In-process: ready as soon as it is built."""
        return True

    def close(self) -> None:
        """Remove the compiled bundle; threads drop their interpreters with the engine."""
        self._dir.cleanup()


def for_pack(pack: RulePack, _options: BackendOptions) -> EmbeddedRegoBackend:
    """The pack's Rego, compiled in process."""
    return EmbeddedRegoBackend(pack.rego_modules, pack.raw_data)
