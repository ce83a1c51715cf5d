"""The gates the agreement tests compare: the embedded engine and OPA, on the default pack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policy.gate import Gate
from policy.rule_pack import RulePack
from service.engines import build_gate
from service.settings import Settings
from tests.fixtures import RULES, RegoBackend


@pytest.fixture(scope="session")
def both_gates(pack: RulePack, opa_backend: RegoBackend) -> Iterator[tuple[Gate, Gate]]:
    embedded = build_gate(Settings(rules=RULES), pack)
    opa = build_gate(opa_backend.settings(rules=RULES), pack)
    yield embedded, opa
    embedded.close()
    opa.close()
