"""Crash safety: kill -9 the gateway under load, three times, and count the decisions it
acknowledged that the log does not hold (there must be none); the chain must verify after
each crash, and the gateway must start again on the store it left.

    python -m bench.crash_safety [--postgres URL]

prints one line per store: acknowledged, lost, chains verified. The test suite runs the
same rounds (tests/service/test_crash_safety.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from bench.run import agent_key, started
from service.audit.signing import new_private_pem, signing_key
from service.audit.tables import AuditEventRow
from service.audit.verify import verify_store
from service.decisions.tables import DecisionRow
from service.settings import Settings
from service.store.database import database_engine
from tests.fixtures import REFUND
from tests.loopback import free_port

CALLERS = 8
LOAD_SECONDS = 2.0
ROUNDS = 3
# A small refund: allowed, so every acknowledged answer is a decision the agent acts on.
SMALL_REFUND = REFUND | {"action": REFUND["action"] | {"amount": {"value": 40, "currency": "USD"}}}


@dataclass
class CrashReport:
    """What the rounds found."""

    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)


def _load(url: str, key: str, acknowledged: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        while not stop.is_set():
            body = SMALL_REFUND | {"idempotency_key": str(uuid.uuid4())}
            try:
                answer = client.post("/v1/decisions", json=body, timeout=5)
            except httpx.HTTPError:
                continue  # the gateway is gone: nothing was acknowledged
            if answer.status_code == 201:
                acknowledged.append(answer.json()["decision_id"])


def _round(settings: Settings, env: dict[str, str], key: str) -> list[str]:
    """Serve, load, kill -9 while loaded; the decision ids that were acknowledged."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "sluicegate"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started(server, port)
    acknowledged: list[str] = []
    stop = threading.Event()
    callers = [
        threading.Thread(target=_load, args=(f"http://127.0.0.1:{port}", key, acknowledged, stop))
        for _ in range(CALLERS)
    ]
    for caller in callers:
        caller.start()
    time.sleep(LOAD_SECONDS)
    os.kill(server.pid, signal.SIGKILL)  # mid-load: requests are in flight
    server.wait()
    stop.set()
    for caller in callers:
        caller.join()
    return acknowledged


def crash_rounds(database_url: str, rounds: int = ROUNDS) -> CrashReport:
    """Kill the gateway under load `rounds` times on this store; what was lost."""
    settings = Settings(
        database_url=database_url,
        audit_signing_key=SecretStr(new_private_pem())
        if not database_url.startswith("sqlite")
        else None,
    )
    key = agent_key(database_url)
    env = {**os.environ, "SLUICEGATE_DATABASE_URL": database_url, "SLUICEGATE_LOG_LEVEL": "ERROR"}
    if settings.audit_signing_key is not None:
        env["SLUICEGATE_AUDIT_SIGNING_KEY"] = settings.audit_signing_key.get_secret_value()
    report = CrashReport()
    database = database_engine(database_url)
    try:
        for _ in range(rounds):
            acknowledged = _round(settings, env, key)
            report.acknowledged += len(acknowledged)
            with database.connect() as connection:
                decided = set(connection.execute(select(DecisionRow.decision_id)).scalars())  # type: ignore[call-overload]
                audited = set(
                    connection.execute(
                        select(AuditEventRow.decision_id).where(AuditEventRow.kind == "decision")  # type: ignore[call-overload]
                    ).scalars()
                )
            report.lost += [d for d in acknowledged if d not in decided or d not in audited]
            public = signing_key(settings).public_key()
            report.verified.append(verify_store(database, public).ok)
    finally:
        database.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to run on as well")
    arguments = parser.parse_args()
    stores = {"sqlite": f"sqlite:///{Path(tempfile.mkdtemp()) / 'crash.db'}"}
    if arguments.postgres:
        stores["postgresql"] = arguments.postgres
    for name, url in stores.items():
        report = crash_rounds(url)
        print(
            f"{name}: {ROUNDS} kill -9 under {CALLERS} callers: {report.acknowledged} "
            f"acknowledged, {len(report.lost)} lost, chain verified after each: {report.verified}"
        )


if __name__ == "__main__":
    main()
