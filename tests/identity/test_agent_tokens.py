"""Agents present the organisation's OAuth access tokens, issued by a real OpenID provider
(oidc-provider, started by the tests), on both stores; bad tokens are refused with a stable
code and nothing is decided; an OAuth client finds how to get a token from a 401."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import text

from service.auth.identities import IdentityKind, link_identity
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, REFUND, RULES
from tests.identity.provider import OpenIdProvider, openid_provider
from tests.loopback import free_port, serving
from tests.store_access import store

CLIENTS = [
    {"client_id": "billing-bot", "client_secret": "bot-secret"},
    {"client_id": "short-bot", "client_secret": "short-secret"},
    {"client_id": "stranger-bot", "client_secret": "stranger-secret"},
    {"client_id": "fiona", "client_secret": "fiona-secret"},  # a person's subject
]
CRM = {"action": {"type": "crm.lookup", "environment": "production"}}


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    clients = [
        c | {"grant_types": ["client_credentials"], "redirect_uris": [], "response_types": []}
        for c in CLIENTS
    ]
    config = {"clients": clients, "shortLivedClients": ["short-bot"]}
    with openid_provider(config, tmp_path) as provider:
        database = database_engine(database_url)
        migrate(database)
        create_key(database, name="billing-bot", role=Role.AGENT, scopes=["crm.*"])
        create_key(database, name="short-bot", role=Role.AGENT, scopes=["*"])
        create_key(database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"])
        _, auditor = create_key(database, name="audrey", role=Role.AUDITOR, scopes=[])
        for agent, scopes in (("billing-bot", ["*"]), ("short-bot", ["*"])):
            link_identity(
                database, agent, kind=IdentityKind.OAUTH, issuer=provider.issuer,
                subject=agent, scopes=scopes,
            )  # fmt: skip
        link_identity(
            database, "fiona", kind=IdentityKind.OIDC, issuer=provider.issuer, subject="fiona"
        )
        database.dispose()
        port = free_port()
        public_url = f"http://127.0.0.1:{port}/"
        settings = Settings(
            database_url=database_url,
            rules=RULES,
            audit_signing_key=AUDIT_KEY,
            public_url=public_url,
            oauth_issuers=provider.issuer,
            oauth_clock_skew_seconds=0,
        )
        with serving(settings, port=port) as gate:
            yield {
                "gate": gate,
                "provider": provider,
                "resource": public_url,
                "auditor": auditor,
                "database_url": database_url,
            }


def _token(world: dict[str, Any], client: str, **asked: str) -> str:
    provider: OpenIdProvider = world["provider"]
    secret = next(c["client_secret"] for c in CLIENTS if c["client_id"] == client)
    return provider.client_token(
        client, secret, resource=asked.get("resource", world["resource"]),
        scope=asked.get("scope", "sluicegate"),
    )  # fmt: skip


def _decide(world: dict[str, Any], token: str, body: dict[str, Any] = CRM) -> httpx.Response:
    return httpx.post(
        f"{world['gate']}/v1/decisions", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _decisions(world: dict[str, Any]) -> int:
    with store(world["database_url"]) as db:
        return int(db.execute(text("SELECT count(*) FROM decisions")).scalar_one())


def test_an_agent_decides_with_its_token_as_itself(world: dict[str, Any]) -> None:
    answer = _decide(world, _token(world, "billing-bot"))
    assert answer.status_code == 201, answer.text
    decided = answer.json()
    assert decided["outcome"] == "allow"
    read = httpx.get(
        f"{world['gate']}/v1/audit/events",
        params={"decision_id": decided["decision_id"]},
        headers={"Authorization": f"Bearer {world['auditor']}"},
    ).json()["events"]
    assert read[0]["event"]["agent"]["name"] == "billing-bot"


def test_a_token_scope_narrows_what_the_agent_may_propose(world: dict[str, Any]) -> None:
    narrowed = _token(world, "billing-bot", scope="sluicegate actions:crm.*")
    assert _decide(world, narrowed).json()["outcome"] == "allow"
    refund = _decide(world, narrowed, REFUND).json()
    assert refund["outcome"] == "deny"
    assert refund["fail_closed"]["cause"] == "agent_out_of_scope"


def _forged(world: dict[str, Any], header: dict[str, Any], key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": world["provider"].issuer,
        "sub": "billing-bot",
        "aud": world["resource"],
        "scope": "sluicegate",
        "iat": now,
        "exp": now + 300,
    } | claims
    return jwt.encode(header, body, key)


def _unsigned(world: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": world["provider"].issuer, "sub": "billing-bot", "aud": world["resource"]}
    return f"{part({'alg': 'none'})}.{part(claims | {'exp': now + 300, 'scope': 'sluicegate'})}."


def test_bad_tokens_are_refused_with_a_stable_code_and_nothing_is_decided(
    world: dict[str, Any],
) -> None:
    stranger_key = ECKey.generate_key("P-256", parameters={"kid": "not-the-providers"})
    short = _token(world, "short-bot")
    time.sleep(3)  # its two seconds are over (no skew tolerated in this test)
    tried = {
        "wrong audience": _token(world, "billing-bot", resource="http://127.0.0.1:9/"),
        "wrong issuer": _forged(
            world,
            {"alg": "ES256", "kid": "not-the-providers"},
            stranger_key,
            iss="http://127.0.0.1:9",
        ),
        "expired": short,
        "unknown kid": _forged(world, {"alg": "ES256", "kid": "not-the-providers"}, stranger_key),
        "alg none": _unsigned(world),
        "HMAC": _forged(world, {"alg": "HS256"}, OctKey.import_key(b"s" * 32)),
        "a person's token as an agent": _token(world, "fiona"),
        "an unlinked subject": _token(world, "stranger-bot"),
        "without the scope": _token(world, "billing-bot", scope="actions:crm.*"),
        "garbage": "not-a-token",
    }
    answers = {what: _decide(world, token) for what, token in tried.items()}
    seen = {
        what: (a.status_code, a.json()["error"]["code"], (a.json()["error"]["details"] or [{}])[0])
        for what, a in answers.items()
    }
    assert seen == {
        "wrong audience": (401, "invalid_token", {"reason": "wrong_audience"}),
        "wrong issuer": (401, "invalid_token", {"reason": "unknown_issuer"}),
        "expired": (401, "invalid_token", {"reason": "expired"}),
        "unknown kid": (401, "invalid_token", {"reason": "unknown_key"}),
        "alg none": (401, "invalid_token", {"reason": "algorithm_not_allowed"}),
        "HMAC": (401, "invalid_token", {"reason": "algorithm_not_allowed"}),
        "a person's token as an agent": (401, "invalid_token", {"reason": "not_an_agent"}),
        "an unlinked subject": (401, "invalid_token", {"reason": "unknown_subject"}),
        "without the scope": (403, "insufficient_scope", {"scope": "sluicegate"}),
        "garbage": (401, "invalid_token", {"reason": "malformed"}),
    }
    assert _decisions(world) == 0
    assert 'error="invalid_token"' in answers["expired"].headers["WWW-Authenticate"]
    scope_challenge = answers["without the scope"].headers["WWW-Authenticate"]
    assert 'error="insufficient_scope", scope="sluicegate"' in scope_challenge


def test_an_oauth_client_finds_how_to_get_a_token_from_a_401(world: dict[str, Any]) -> None:
    unauthenticated = httpx.post(f"{world['gate']}/v1/decisions", json=CRM)
    assert unauthenticated.status_code == 401
    challenge = unauthenticated.headers["WWW-Authenticate"]
    metadata_url = challenge.split('resource_metadata="')[1].rstrip('"')
    assert metadata_url == f"{world['gate']}/.well-known/oauth-protected-resource"
    metadata = httpx.get(metadata_url).json()
    assert metadata == {
        "resource": world["resource"],
        "authorization_servers": [world["provider"].issuer],
        "scopes_supported": ["sluicegate"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Sluicegate",
    }
    for unknown in ("/.well-known/oauth-authorization-server", "/.well-known/nothing"):
        assert httpx.get(f"{world['gate']}{unknown}").status_code == 404
    # A gate key keeps working beside tokens.
    database = database_engine(world["database_url"])
    _, key = create_key(database, name="keyed-bot", role=Role.AGENT, scopes=["*"])
    database.dispose()
    assert _decide(world, key).status_code == 201
