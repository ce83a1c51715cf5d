"""Two gateways on one store under concurrent load, with idempotency keys retried across both:
every request is answered 200 or 201, each key gets exactly one decision, and requests that
share no key never fail because of a race between others."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from service.audit.signing import signing_key
from service.audit.verify import verify_store
from service.auth.keys import create_key
from service.auth.roles import Role
from service.decisions.tables import DecisionRow
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, REFUND, RULES
from tests.loopback import serving

THREADS = 16
KEYS = 60
USES_PER_KEY = 5
WITHOUT_KEY = 60


def _requests() -> list[tuple[int, dict[str, Any]]]:
    """(which gateway, body): every key five times over both gateways, and keyless ones,
    shuffled so that uses of one key race each other."""
    shuffle = random.Random(20261129)
    keyed = [
        (use % 2, REFUND | {"idempotency_key": f"load-{key}", "justification": f"case {key}"})
        for key in range(KEYS)
        for use in range(USES_PER_KEY)
    ]
    keyless = [(n % 2, REFUND | {"justification": f"keyless {n}"}) for n in range(WITHOUT_KEY)]
    requests = keyed + keyless
    shuffle.shuffle(requests)
    return requests


def test_two_gateways_answer_concurrent_retries_with_one_decision_per_key(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY)
    database = database_engine(database_url)
    migrate(database)
    _, key = create_key(database, name="load-bot", role=Role.AGENT, scopes=["*"])
    headers = {"Authorization": f"Bearer {key}"}
    with serving(settings) as first, serving(settings) as second:
        clients = [
            httpx.Client(base_url=base, headers=headers, timeout=60) for base in (first, second)
        ]

        def ask(request: tuple[int, dict[str, Any]]) -> tuple[str | None, int, str]:
            gateway, body = request
            answer = clients[gateway].post("/v1/decisions", json=body)
            decision_id = answer.json().get("decision_id", "") if answer.content else ""
            return body.get("idempotency_key"), answer.status_code, decision_id

        try:
            with ThreadPoolExecutor(THREADS) as pool:
                answers = list(pool.map(ask, _requests()))
        finally:
            for client in clients:
                client.close()

    statuses = Counter(status for _, status, _ in answers)
    assert set(statuses) <= {200, 201}, statuses
    by_key: dict[str, set[str]] = defaultdict(set)
    first_answers: Counter[str] = Counter()
    for idempotency_key, status, decision_id in answers:
        if idempotency_key is not None:
            by_key[idempotency_key].add(decision_id)
            first_answers[idempotency_key] += status == 201
    assert len(by_key) == KEYS
    assert all(len(ids) == 1 for ids in by_key.values())
    assert set(first_answers.values()) == {1}  # one 201 per key, its retries replay it (200)
    assert statuses[201] == KEYS + WITHOUT_KEY

    with database.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(DecisionRow)).scalar_one()
    assert stored == KEYS + WITHOUT_KEY
    assert verify_store(database, signing_key(settings).public_key()).ok
    database.dispose()
