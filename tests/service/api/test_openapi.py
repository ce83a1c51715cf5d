"""The OpenAPI document is valid 3.1 and complete: openapi-spec-validator accepts it, a
client generated with openapi-python-client has every operation, and schemathesis, with body
generation on, finds no server error and no undocumented answer on either store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import SecretStr

from service.app import create_app
from service.audit.signing import new_private_pem, signing_key
from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import RULES
from tests.loopback import serving

BIN = Path(sys.executable).parent
# Media types the generator has no reader for are bytes to it.
GENERATOR_CONFIG = """content_type_overrides:
  application/zip: application/octet-stream
  application/gzip: application/octet-stream
  application/x-ndjson: application/octet-stream
  text/csv: application/octet-stream
"""
FUZZ_CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "allow_header_conformance",
    )
)
EXAMPLES_PER_OPERATION = 160
MIN_CASES = 5000


def _document(tmp_path: Path) -> dict[str, Any]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'doc.db'}", rules=RULES))
    document: dict[str, Any] = app.openapi()
    return document


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}


def test_the_document_is_valid_and_every_ref_resolves(tmp_path: Path) -> None:
    document = _document(tmp_path)
    validate(document)  # resolves every $ref too
    assert document["openapi"].startswith("3.1")
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(document)))
    schemas = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    assert refs <= schemas
    decide = document["paths"]["/v1/decisions"]["post"]
    assert decide["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Proposal"
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("422", "503"):
                error = operation["responses"][status]["content"]["application/json"]
                assert error["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                    method,
                    path,
                )


def test_a_generated_client_has_every_operation(tmp_path: Path) -> None:
    document = _document(tmp_path)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "generator.yaml").write_text(GENERATOR_CONFIG)
    generated = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            "client",
            "--meta",
            "none",
            "--config",
            "generator.yaml",
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    modules = {
        path.stem
        for path in (tmp_path / "client" / "api").rglob("*.py")
        if path.name != "__init__.py"
    }
    operations = _operations(document)
    assert len(modules) == len(operations)
    assert "create_decision_v1_decisions_post" in modules
    assert "proceed_v1_decisions_decision_id_proceed_post" in modules


def _fuzz_keys(database_url: str) -> dict[str, str]:
    database = database_engine(database_url)
    try:
        migrate(database)
        made = [
            ("agent", "fuzz-agent", Role.AGENT, ["*"]),
            ("reviewer", "fuzz-reviewer", Role.REVIEWER, ["group:finance-approvers"]),
            ("auditor", "fuzz-auditor", Role.AUDITOR, []),
            ("sidecar", "fuzz-sidecar", Role.SIDECAR, []),
            ("author", "fuzz-author", Role.AUTHOR, []),
        ]
        return {
            role_name: create_key(database, name=name, role=role, scopes=scopes)[1]
            for role_name, name, role, scopes in made
        }
    finally:
        database.dispose()


@pytest.mark.integration
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    database_url: str, tmp_path: Path
) -> None:
    keys = _fuzz_keys(database_url)
    settings = Settings(
        database_url=database_url,
        rules=RULES,
        audit_signing_key=SecretStr(new_private_pem()),
        long_poll_max_seconds=0.2,  # a generated ?wait= must not hold the run for a minute
    )
    with serving(settings) as url:
        run = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "run",
                f"{url}/openapi.json",
                "--checks",
                FUZZ_CHECKS,
                "--max-examples",
                str(EXAMPLES_PER_OPERATION),
                # One worker: hypothesis parses lambdas' source with `ast`, which Python 3.11
                # can fail at from two threads at once ("AST constructor recursion depth").
                "--workers",
                "1",
                "--seed",
                "20261129",
                "--no-color",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--report",
                "junit",
                "--report-junit-path",
                str(tmp_path / "junit.xml"),
            ],
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
                "SLUICEGATE_FUZZ_KEYS": json.dumps(keys),
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    cases = int(re.search(r"(\d+) generated", output).group(1))  # type: ignore[union-attr]
    tested = re.search(r"Tested: (\d+)", output)
    store = database_url.split(":", maxsplit=1)[0]
    print(f"schemathesis on {store}: {cases} cases, {tested and tested.group(1)} operations")
    assert cases >= MIN_CASES
    assert tested is not None
    assert int(tested.group(1)) == len(_operations(_document(tmp_path)))
    # Whatever the fuzzing wrote, the audit chain still verifies.
    database = database_engine(database_url)
    try:
        verified = verify_store(database, signing_key(settings).public_key())
    finally:
        database.dispose()
    assert verified.ok, verified


def test_a_405_names_every_method_of_the_path(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'gate.db'}", rules=RULES))
    with TestClient(app) as client:
        answer = client.request("PUT", "/v1/webhooks")
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET, POST"
        assert answer.json()["error"]["code"] == "method_not_allowed"
