"""The backend registry: every backend by name."""

from __future__ import annotations

import pytest

from policy.backends import BACKENDS, backends_for
from policy.errors import RulePackError
from policy.rule_pack import RulePack


def test_every_backend_is_registered_by_name() -> None:
    assert set(BACKENDS) == {"rego-embedded", "opa", "python"}


def test_the_rego_backend_comes_first_then_python_rules(pack: RulePack) -> None:
    backends = backends_for(pack, "rego-embedded")
    try:
        assert [backend.name for backend in backends] == ["rego-embedded", "python"]
    finally:
        for backend in backends:
            backend.close()


def test_an_unknown_backend_is_refused(pack: RulePack) -> None:
    with pytest.raises(RulePackError, match="no evaluation backend named 'wasm'"):
        backends_for(pack, "wasm")
