"""A real OPA sidecar polling the gateway's bundle endpoint, and the gateway deciding through it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from policy.rule_pack import load_rule_pack
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, RULES, bearer
from tests.loopback import free_port, serving
from tests.opa_sidecar import OpaProcess

BUNDLE_PATH = "/v1/bundles/sluicegate.tar.gz"
DRAFT = {
    "action": {"type": "email.customer.draft", "environment": "sandbox"},
    "work_item": {"id": "T-1", "type": "ticket"},
}


def test_the_bundle_holds_the_manifest_data_and_rego(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    response = client.get(BUNDLE_PATH, headers=bearer(runtime, Role.SIDECAR))
    assert response.status_code == 200
    revision = load_rule_pack(RULES).revision
    assert response.headers["etag"] == f'"{revision}"'
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(response.content))) as tar:
        names = {member.name.lstrip("/") for member in tar.getmembers()}
        manifest = json.loads(tar.extractfile("/.manifest").read())  # type: ignore[union-attr]
    assert manifest == {"revision": revision, "roots": ["sluicegate"], "rego_version": 1}
    assert {"data.json", "rego/verdicts.rego", "rego/autonomy.rego"} <= names
    assert not any(name.endswith("_test.rego") for name in names)


def test_the_same_revision_is_not_sent_twice(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    headers = bearer(runtime, Role.SIDECAR)
    etag = client.get(BUNDLE_PATH, headers=headers).headers["etag"]
    again = client.get(BUNDLE_PATH, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    changed = client.get(BUNDLE_PATH, headers={**headers, "If-None-Match": '"sha256:old"'})
    assert changed.status_code == 200


def test_only_sidecars_authors_and_admins_read_the_bundle(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert client.get(BUNDLE_PATH).status_code == 401
    agent = client.get(BUNDLE_PATH, headers=bearer(runtime, Role.AGENT, ["*"]))
    assert agent.status_code == 403
    assert agent.json()["error"]["code"] == "forbidden"


@dataclass(frozen=True)
class Deployment:
    gateway_url: str
    agent_key: str
    sidecar: OpaProcess


def _opa_config(gateway_url: str, token: str, target: Path) -> Path:
    # What an operator writes (docs/operators.md): poll the gateway for the bundle.
    config = {
        "services": {
            "gateway": {"url": f"{gateway_url}/v1", "credentials": {"bearer": {"token": token}}}
        },
        "bundles": {
            "sluicegate": {
                "service": "gateway",
                "resource": "bundles/sluicegate.tar.gz",
                "polling": {"min_delay_seconds": 1, "max_delay_seconds": 2},
            }
        },
    }
    target.write_text(json.dumps(config), encoding="utf-8")
    return target


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> Iterator[Deployment]:
    """A gateway on the OPA engine in bundle mode, and OPA fed by it; started like production."""
    engine = database_engine(database_url)
    migrate(engine)
    _, sidecar_key = create_key(engine, name="opa-sidecar", role=Role.SIDECAR, scopes=[])
    _, agent_key = create_key(engine, name="agent", role=Role.AGENT, scopes=["*"])
    engine.dispose()
    opa_port = free_port()
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        rego_backend="opa",
        opa_url=f"http://127.0.0.1:{opa_port}",
    )
    with serving(settings) as gateway_url:
        config = _opa_config(gateway_url, sidecar_key, tmp_path / "opa.json")
        sidecar = OpaProcess("--config-file", str(config), port=opa_port)
        sidecar.start(wait_for_bundles=True)
        try:
            yield Deployment(gateway_url, agent_key, sidecar)
        finally:
            sidecar.stop()


def test_opa_polls_the_bundle_and_the_gateway_decides_through_it(
    deployment: Deployment,
) -> None:
    headers = {"Authorization": f"Bearer {deployment.agent_key}"}
    with httpx.Client(base_url=deployment.gateway_url, headers=headers) as http:
        assert http.get("/readyz").json()["engine"] == "opa"
        answer = http.post("/v1/decisions", json=DRAFT)
    assert answer.status_code == 201
    body = answer.json()
    assert body["outcome"] == "allow"
    assert body["policy"] == {"revision": load_rule_pack(RULES).revision, "engine": "opa"}


def test_with_the_sidecar_gone_the_gateway_is_not_ready_and_never_allows(
    deployment: Deployment,
) -> None:
    deployment.sidecar.stop()
    headers = {"Authorization": f"Bearer {deployment.agent_key}"}
    with httpx.Client(base_url=deployment.gateway_url, headers=headers) as http:
        assert http.get("/readyz").status_code == 503
        body = http.post("/v1/decisions", json=DRAFT).json()
    assert body["outcome"] == "route_to_human"
    assert body["fail_closed"]["cause"] == "engine_unavailable"
