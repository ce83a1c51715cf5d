"""The evaluation backends by name: a new backend is one module (with `for_pack`) and one line."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from policy.backends import opa_server, python_rules, rego_embedded
from policy.backends.base import BackendOptions, EvaluationBackend
from policy.errors import RulePackError
from policy.rule_pack import RulePack

BackendFactory = Callable[[RulePack, BackendOptions], EvaluationBackend]

BACKENDS: Mapping[str, BackendFactory] = {
    "rego-embedded": rego_embedded.for_pack,
    "opa": opa_server.for_pack,
    "python": python_rules.for_pack,
}
# Which backend evaluates the pack's Python rules; it runs beside whichever Rego backend is chosen.
PYTHON_RULES = "python"


def backends_for(
    pack: RulePack, rego: str, options: BackendOptions | None = None
) -> list[EvaluationBackend]:
    """The named Rego backend first (it names the decision's `policy.engine`), then the pack's
    Python rules."""
    options = options or BackendOptions()
    built: list[EvaluationBackend] = []
    for name in (rego, PYTHON_RULES):
        factory = BACKENDS.get(name)
        if factory is None:
            for backend in built:
                backend.close()
            raise RulePackError(f"no evaluation backend named {name!r}; known: {sorted(BACKENDS)}")
        built.append(factory(pack, options))
    return built
