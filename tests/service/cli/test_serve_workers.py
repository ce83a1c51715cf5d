"""`sluicegate serve --workers N`: several processes on one PostgreSQL store answer together,
with one chain; on SQLite the command refuses and says why."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from service.audit.signing import new_private_pem, signing_key
from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.cli.main import app
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import REFUND
from tests.loopback import free_port
from tests.postgres import PostgresCluster

SLUICEGATE = Path(sys.executable).with_name("sluicegate")
REQUESTS = 40


def test_several_workers_on_sqlite_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'gate.db'}")
    refused = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert refused.exit_code == 2
    assert "--workers needs PostgreSQL" in refused.output


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@pytest.mark.integration
def test_two_worker_processes_share_one_postgresql_store(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.database()
    pem = new_private_pem()
    database = database_engine(url)
    migrate(database)
    _, key = create_key(database, name="bot", role=Role.AGENT, scopes=["*"])
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    environment = os.environ | {"SLUICEGATE_DATABASE_URL": url, "SLUICEGATE_AUDIT_SIGNING_KEY": pem}
    server = subprocess.Popen(
        [str(SLUICEGATE), "serve", "--workers", "2", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the workers did not get ready"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}

        def ask(index: int) -> int:
            body = REFUND | {"idempotency_key": f"w-{index}"}
            return httpx.post(
                f"{base}/v1/decisions", json=body, headers=headers, timeout=30
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, range(REQUESTS)))
        assert answers == [201] * REQUESTS
        assert len(_children(server.pid)) >= 2  # uvicorn's supervisor and its two workers
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    settings = Settings(database_url=url, audit_signing_key=pem)
    verified = verify_store(database, signing_key(settings).public_key())
    database.dispose()
    assert verified.ok, verified
    assert verified.events >= REQUESTS
