"""Shared fixtures: the default rule pack, a gate over it, and a gateway on a real SQLite file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policy.context import Agent
from policy.gate import Gate
from policy.rule_pack import RulePack, load_rule_pack
from service.app import create_app
from service.gateway import Gateway, build_gate
from service.principals import Role, create_key
from service.settings import Settings, bundled_rules

RULES = bundled_rules()


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_rule_pack(RULES)


@pytest.fixture(scope="session")
def gate(pack: RulePack) -> Iterator[Gate]:
    built = build_gate(Settings(rules=RULES), pack)
    yield built
    built.close()


@pytest.fixture
def any_agent() -> Agent:
    return Agent(id="agent-1", name="test-agent", scopes=("*",))


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the default pack, for tests that add or break rules."""
    target = tmp_path / "rules"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'gate.db'}", rules=RULES)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def gateway(client: TestClient) -> Gateway:
    found: Gateway = client.app.state.gateway  # type: ignore[attr-defined]
    return found


def bearer(gateway: Gateway, role: Role, scopes: list[str] | None = None) -> dict[str, str]:
    """Authorization headers for a new key of the role."""
    _, key = create_key(gateway.engine, name=f"test-{role.value}", role=role, scopes=scopes or [])
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def agent_headers(gateway: Gateway) -> dict[str, str]:
    return bearer(gateway, Role.AGENT, ["*"])
