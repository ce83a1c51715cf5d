"""Embedded Rego on regorus (Microsoft's Rust interpreter, through `native/`): compiled once.

The pack is parsed and analysed once per pack; each evaluation starts from that compiled form
with nothing shared that changes, so worker threads call it at once, and the GIL is released
while the input is parsed and the rules evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sluicegate_native

from policy.backends.base import BackendOptions, read_verdicts
from policy.context import EvaluationContext
from policy.decision import Reason
from policy.errors import EngineError, EngineMalformedResult, EngineUndefined, RulePackError
from policy.rule_pack import RulePack

VERDICTS_RULE = "data.sluicegate.verdicts"


def compile_rego(
    modules: Mapping[str, str], data: Mapping[str, Any], rule: str
) -> sluicegate_native.CompiledRule:
    """The modules and data compiled for `rule`; a module that does not compile is the pack's
    error."""
    try:
        return sluicegate_native.compile(sorted(modules.items()), json.dumps(data), rule)
    except sluicegate_native.RegoError as exc:
        raise RulePackError(f"Rego does not compile: {exc}") from exc


class EmbeddedRegoBackend:
    """The pack's `data.sluicegate.verdicts`, compiled once, evaluated in process."""

    name = "rego-embedded"

    def __init__(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        self._verdicts: sluicegate_native.CompiledRule = compile_rego(modules, data, VERDICTS_RULE)

    def evaluate(self, context: EvaluationContext) -> list[Reason]:
        """The verdicts of `data.sluicegate.verdicts` for this proposal."""
        try:
            output = self._verdicts.evaluate(json.dumps(context.document))
        except sluicegate_native.RegoError as exc:
            raise EngineError(self.name, str(exc)) from exc
        if output is None:
            raise EngineUndefined(self.name, "data.sluicegate.verdicts is undefined")
        try:
            verdicts = json.loads(output)
        except ValueError as exc:
            raise EngineMalformedResult(self.name, f"output is not JSON: {exc}") from exc
        return read_verdicts(self.name, verdicts)

    def healthy(self) -> bool:
        """In-process: ready as soon as it is built."""
        return True

    def close(self) -> None:
        """Nothing to release: the compiled pack goes with the engine."""


def for_pack(pack: RulePack, _options: BackendOptions) -> EmbeddedRegoBackend:
    """The pack's Rego, compiled in process."""
    return EmbeddedRegoBackend(pack.rego_modules, pack.raw_data)
