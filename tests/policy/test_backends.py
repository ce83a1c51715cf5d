"""The backend registry: every backend by name, and the import order that keeps regopy alive."""

from __future__ import annotations

import subprocess
import sys

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


def test_embedded_rego_survives_the_opa_client_being_imported_first() -> None:
    """Loading frozenlist (via aiohttp) before regopy aborts regopy's bundle save; the
    package imports regopy first, so any order of imports works."""
    program = (
        "import policy.backends.opa_server\n"
        "from policy.backends import backends_for\n"
        "from policy.rule_pack import load_rule_pack\n"
        "from service.settings import bundled_rules\n"
        "pack = load_rule_pack(bundled_rules())\n"
        "for backend in backends_for(pack, 'rego-embedded'):\n"
        "    backend.close()\n"
        "print('built')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "built"
