"""On PostgreSQL a resolution on one gateway wakes the long polls on the others at once:
a NOTIFY sent at commit, heard by each gateway's listener (not by re-reading the store)."""

from __future__ import annotations

import asyncio
import queue

from pydantic import SecretStr
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from policy.proposal import Proposal
from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import database_engine
from service.store.notifications import Listener, announce
from service.webhooks.registry import WebhookCreate, register
from tests.fixtures import REFUND, RULES
from tests.loopback import serving_app
from tests.postgres import PostgresCluster


def test_an_announcement_is_delivered_only_when_its_transaction_commits(
    postgres: PostgresCluster,
) -> None:
    database = database_engine(postgres.database())
    heard: queue.Queue[str] = queue.Queue()
    listener = Listener(database, "test_channel", heard.put)
    listener.start()
    try:
        for attempt in range(100):  # until the listener is connected: announce until heard
            with database.begin() as connection:
                announce(connection, "test_channel", f"probe-{attempt}")
            try:
                heard.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        with database.connect() as connection:
            transaction = connection.begin()
            announce(connection, "test_channel", "rolled-back")
            transaction.rollback()
        with database.begin() as connection:
            announce(connection, "test_channel", "committed")
        while (payload := heard.get(timeout=10)).startswith("probe-"):
            continue
        assert payload == "committed"
    finally:
        listener.stop()
        database.dispose()


def test_an_approval_on_one_gateway_wakes_a_long_poll_on_another(
    postgres: PostgresCluster,
) -> None:
    url = postgres.database()
    key = SecretStr(new_private_pem())
    settings = Settings(database_url=url, rules=RULES, audit_signing_key=key)
    approving, polling = Runtime(settings), Runtime(settings)
    try:
        agent, _ = create_key(approving.database, name="bot", role=Role.AGENT, scopes=["*"])
        fiona, _ = create_key(
            approving.database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )

        async def scenario() -> bool:
            recorded = await approving.decider.decide(Proposal.model_validate(REFUND), agent)
            with approving.database.connect() as connection:
                review_id = connection.execute(
                    text("SELECT id FROM review_tasks WHERE decision_id = :d"),
                    {"d": recorded.decision_id},
                ).scalar_one()
            # Waiting on the other gateway's watch: only its listener can wake it (True);
            # re-reading the store is what the long poll does besides, not this wait.
            woken = asyncio.create_task(polling.watch.wait(recorded.decision_id, 30))
            await asyncio.sleep(0.2)  # parked
            await asyncio.to_thread(approving.desk.approve, review_id, fiona)
            return await woken

        assert asyncio.run(scenario()) is True
    finally:
        approving.close()
        polling.close()


def test_an_approval_on_one_gateway_sends_its_webhook_from_another_at_once(
    postgres: PostgresCluster,
) -> None:
    received: queue.Queue[bytes] = queue.Queue()

    async def hook(request: Request) -> Response:
        received.put(await request.body())
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    settings = Settings(
        database_url=postgres.database(),
        rules=RULES,
        audit_signing_key=SecretStr(new_private_pem()),
        webhook_allowed_networks=("127.0.0.0/8",),
        webhook_tick_seconds=60,  # only a wake-up can send it within the test
    )
    approving, sending = Runtime(settings), Runtime(settings)
    approving.webhooks.stop()  # the approving gateway cannot send: the other one must
    try:
        agent, _ = create_key(approving.database, name="bot", role=Role.AGENT, scopes=["*"])
        fiona, _ = create_key(
            approving.database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        with serving_app(receiver) as url:
            register(
                approving.database,
                approving.destinations,
                agent,
                WebhookCreate(url=f"{url}/hook"),
            )
            recorded = asyncio.run(approving.decider.decide(Proposal.model_validate(REFUND), agent))
            with approving.database.connect() as connection:
                review_id = connection.execute(
                    text("SELECT id FROM review_tasks WHERE decision_id = :d"),
                    {"d": recorded.decision_id},
                ).scalar_one()
            approving.desk.approve(review_id, fiona)
            body = received.get(timeout=20)  # well before the other gateway's 60 s tick
        assert recorded.decision_id.encode() in body
    finally:
        approving.close()
        sending.close()
