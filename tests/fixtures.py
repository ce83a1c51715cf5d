"""Shared fixtures: the default rule pack, gates over it on both Rego engines, and a gateway on a
real SQLite file."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import SecretStr

from policy.context import Agent
from policy.gate import Gate
from policy.opa_bundle import write_bundle_dir
from policy.rule_pack import RulePack, load_rule_pack
from service.app import create_app
from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.engines import build_gate
from service.runtime import Runtime
from service.settings import Settings, bundled_rules
from tests.opa_sidecar import OpaProcess
from tests.postgres import PostgresCluster, postgres_cluster

RULES = bundled_rules()
# One audit signing key for the session's gateways (a PostgreSQL store needs one given).
AUDIT_KEY = SecretStr(new_private_pem())
# The routed proposal most review and audit tests start from: irreversible money over the
# autonomous limit in production, so tier 3 and a finance-approvers review.
REFUND: dict[str, Any] = {
    "action": {
        "type": "payments.refund.issue",
        "environment": "production",
        "amount": {"value": 5000, "currency": "USD"},
    },
    "work_item": {"id": "WI-1", "type": "billing-dispute"},
    "justification": "duplicate charge",
    "confidence": 0.9,
}
REGO_BACKENDS = ("rego-embedded", "opa")
# What the rules decide is not a matter of time: on a shared, loaded machine one evaluation can
# exceed the default 250 ms budget and fail closed as `engine_timeout`. Tests that are not about
# the budget give the engines ample time; the timeout tests set their own budget explicitly.
UNHURRIED_BUDGET_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    """Every gateway a test builds or starts (in process or as a subprocess) reads this."""
    os.environ.setdefault("SLUICEGATE_DECISION_BUDGET_MS", str(UNHURRIED_BUDGET_MS))


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_rule_pack(RULES)


@dataclass(frozen=True)
class RegoBackend:
    """One of the two Rego engines; for OPA, the sidecar serving the default pack."""

    name: str
    sidecar: OpaProcess | None = None
    bundle_dir: Path | None = None

    def settings(self, **values: Any) -> Settings:
        """Gateway settings that select this engine (plus any other values given)."""
        if self.sidecar is None:
            return Settings(**values)
        return Settings(
            rego_backend="opa", opa_url=self.sidecar.url, opa_bundle=str(self.bundle_dir), **values
        )

    @contextmanager
    def gate(
        self, rules: Path, *, budget_seconds: float = UNHURRIED_BUDGET_MS / 1000
    ) -> Iterator[Gate]:
        """A gate over any pack; for OPA, a sidecar of its own serving that pack's bundle."""
        budget_ms = int(budget_seconds * 1000)
        pack = load_rule_pack(rules)
        if self.sidecar is None:
            own = build_gate(Settings(rules=rules, decision_budget_ms=budget_ms), pack)
            yield own
            own.close()
            return
        bundle = write_bundle_dir(pack, rules.parent / f"{rules.name}-bundle")
        with OpaProcess("--bundle", str(bundle)) as sidecar:
            engine = RegoBackend(self.name, sidecar, bundle)
            own = build_gate(engine.settings(rules=rules, decision_budget_ms=budget_ms), pack)
            yield own
            own.close()


@pytest.fixture(scope="session")
def opa_backend(pack: RulePack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegoBackend]:
    """A real OPA server holding the default pack as a bundle, for the whole session."""
    bundle = write_bundle_dir(pack, tmp_path_factory.mktemp("opa") / "bundle")
    with OpaProcess("--bundle", str(bundle)) as sidecar:
        yield RegoBackend("opa", sidecar, bundle)


@pytest.fixture(scope="session", params=REGO_BACKENDS)
def rego_backend(request: pytest.FixtureRequest) -> RegoBackend:
    """Each Rego engine in turn: every test that uses it runs on both."""
    if request.param == "opa":
        found: RegoBackend = request.getfixturevalue("opa_backend")
        return found
    return RegoBackend(request.param)


@pytest.fixture(scope="session")
def gate(pack: RulePack, rego_backend: RegoBackend) -> Iterator[Gate]:
    built = build_gate(rego_backend.settings(rules=RULES), pack)
    yield built
    built.close()


@pytest.fixture
def any_agent() -> Agent:
    return Agent(id="agent-1", name="test-agent", scopes=("*",))


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the default pack, for tests that add or break rules."""
    return copy_of_pack(tmp_path / "rules")


def copy_of_pack(target: Path) -> Path:
    """A writable copy of the default pack at `target`."""
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def pack_with_usd_limit(target: Path, limit: int) -> Path:
    """A copy of the default pack at `target` whose autonomous USD limit is `limit`: the
    candidate that impact, shadow and activation tests compare with the default."""
    copy_of_pack(target)
    limits_file = target / "data" / "limits.yaml"
    limits = yaml.safe_load(limits_file.read_text())
    limits["autonomous_limit"]["USD"] = limit
    limits_file.write_text(yaml.safe_dump(limits))
    return target


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A gateway's settings on each store: every test built on `settings`, `client` or
    `runtime` runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gate.db'}"
    else:
        url = request.getfixturevalue("postgres").database()
    return Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def runtime(client: TestClient) -> Runtime:
    found: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return found


def api_routes(app: Any) -> list[APIRoute]:
    """Every FastAPI route of the app, through included routers."""
    return [
        context.route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
    ]


def bearer(
    runtime: Runtime, role: Role, scopes: list[str] | None = None, *, name: str | None = None
) -> dict[str, str]:
    """Authorization headers for a new key of the role: of a new principal, unless `name`
    names one already known (a second key of one person)."""
    name = name or f"test-{role.value}-{next(_principal_numbers)}"
    _, key = create_key(runtime.database, name=name, role=role, scopes=scopes or [])
    return {"Authorization": f"Bearer {key}"}


_principal_numbers = itertools.count(1)


@pytest.fixture
def agent_headers(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, Role.AGENT, ["*"])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session (skips, or fails under CI)."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store: a SQLite file, or a fresh database on the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gate.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.database()
