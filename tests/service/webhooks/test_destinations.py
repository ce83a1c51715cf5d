"""Webhooks post to public addresses only: a URL that resolves to loopback, private,
link-local or metadata addresses is refused at registration and at delivery, before any
connection is opened (the resolver is stubbed; nothing connects to those addresses)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from service.app import create_app
from service.auth.roles import Role
from service.errors import WebhookDestinationRefused
from service.runtime import Runtime
from service.settings import Settings
from service.webhooks.destinations import Destinations
from service.webhooks.sender import WebhookSender
from service.webhooks.tables import WEBHOOK_DELIVERIES
from tests.fixtures import AUDIT_KEY, REFUND, RULES, bearer

# What a hostile or careless DNS answer may say.
ANSWERS = {
    "metadata.example": ["169.254.169.254"],
    "loop.example": ["127.0.0.1"],
    "private.example": ["10.1.2.3"],
    "shared.example": ["100.64.0.7"],
    "v6-loop.example": ["::1"],
    "v6-local.example": ["fd00:ec2::254"],
    "mixed.example": ["93.184.216.34", "192.168.0.1"],
    "public.example": ["93.184.216.34"],
}


def stub_resolver(host: str, port: int) -> list[str]:
    if host in ANSWERS:
        return ANSWERS[host]
    if host.replace(".", "").isdigit() or ":" in host:
        return [host]  # a literal address
    raise OSError("no such host")


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.example/latest/meta-data",
        "http://loop.example:8000/hook",
        "https://private.example/hook",
        "http://shared.example/hook",
        "http://v6-loop.example/hook",
        "http://v6-local.example/hook",
        "http://mixed.example/hook",
        "http://127.0.0.1:8000/hook",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "http://nowhere.example/hook",
        "ftp://public.example/hook",
    ],
)
def test_non_public_destinations_are_refused(url: str) -> None:
    with pytest.raises(WebhookDestinationRefused):
        Destinations(resolver=stub_resolver).check(url)


# IPv6 forms that carry an IPv4 address, each carrying a loopback, private or link-local one;
# `is_global` calls most of them public.
CARRYING_PRIVATE_IPV4 = [
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:0:10.0.0.1",  # IPv4-translated (RFC 2765)
    "64:ff9b::7f00:1",  # NAT64, the well-known prefix: 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64: the metadata address
    "64:ff9b:1::a00:1",  # NAT64, the local-use prefix: 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
    "2600::5efe:a00:1",  # ISATAP in a global prefix: 10.0.0.1
    "2600::200:5efe:7f00:1",  # ISATAP, the universal form: 127.0.0.1
]
# The same forms carrying a public IPv4 address are judged public.
CARRYING_PUBLIC_IPV4 = ["64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:0:93.184.216.34"]


@pytest.mark.parametrize("address", CARRYING_PRIVATE_IPV4)
def test_an_ipv6_address_is_judged_by_the_ipv4_address_it_carries(address: str) -> None:
    ANSWERS["carrier.example"] = [address]
    try:
        with pytest.raises(WebhookDestinationRefused):
            Destinations(resolver=stub_resolver).check("https://carrier.example/hook")
        with pytest.raises(WebhookDestinationRefused):
            Destinations(resolver=stub_resolver).check(f"https://[{address}]/hook")
    finally:
        del ANSWERS["carrier.example"]


@pytest.mark.parametrize("address", CARRYING_PUBLIC_IPV4)
def test_an_ipv6_address_carrying_a_public_ipv4_address_may_be_reached(address: str) -> None:
    assert Destinations(resolver=stub_resolver).check(f"https://[{address}]/hook") == address


def test_an_operator_may_allow_a_network_and_the_request_is_pinned() -> None:
    allowing = Destinations(["10.0.0.0/8"], resolver=stub_resolver)
    assert allowing.check("https://private.example/hook") == "10.1.2.3"
    pinned = Destinations(resolver=stub_resolver).pinned("https://public.example:8443/h?x=1")
    assert str(pinned.url) == "https://93.184.216.34:8443/h?x=1"
    assert pinned.headers == {"host": "public.example:8443"}
    assert pinned.extensions == {"sni_hostname": "public.example"}


@pytest.fixture
def gateway(database_url: str, tmp_path: Any) -> Any:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        runtime.destinations = Destinations(resolver=stub_resolver)
        yield client, runtime


def test_registration_refuses_a_metadata_address(gateway: Any) -> None:
    client, runtime = gateway
    agent = bearer(runtime, Role.AGENT, ["*"])
    refused = client.post(
        "/v1/webhooks", json={"url": "http://metadata.example/latest"}, headers=agent
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_destination_refused"
    assert client.get("/v1/webhooks", headers=agent).json() == []
    accepted = client.post("/v1/webhooks", json={"url": "https://public.example/h"}, headers=agent)
    assert accepted.status_code == 201


def test_delivery_checks_again_and_never_connects(gateway: Any) -> None:
    client, runtime = gateway
    runtime.webhooks.stop()  # the sender below, with its stub resolver, is the only one
    agent = bearer(runtime, Role.AGENT, ["*"])
    client.post("/v1/webhooks", json={"url": "https://public.example/h"}, headers=agent)
    decided = client.post("/v1/decisions", json=REFUND, headers=agent).json()
    reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
    client.post(f"/v1/reviews/{decided['review']['id']}/approve", json={}, headers=reviewer)
    ANSWERS["public.example"] = ["169.254.169.254"]  # the DNS answer changed since
    connections: list[httpx.Request] = []
    sender = WebhookSender(
        runtime.database,
        backoff_seconds=[1.0],
        timeout_seconds=1.0,
        tick_seconds=60,
        destinations=Destinations(resolver=stub_resolver),
    )

    def connect(request: httpx.Request) -> httpx.Response:
        connections.append(request)
        return httpx.Response(200)

    sender._http = httpx.Client(transport=httpx.MockTransport(connect))
    try:
        assert sender.send_due() == 1
    finally:
        ANSWERS["public.example"] = ["93.184.216.34"]
    assert connections == []
    with runtime.database.connect() as connection:
        (delivery,) = connection.execute(select(WEBHOOK_DELIVERIES)).all()
    assert delivery.state == "failed"
    assert "non-public" in delivery.last_error


def test_metrics_can_require_a_key(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        metrics_key=SecretStr("m-key"),
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer m-key"})
        assert right.status_code == 200
        assert "sluicegate_decisions_total" in right.text
