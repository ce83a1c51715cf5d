"""People sign in to the review pages with the organisation's OpenID provider (oidc-provider,
started by the tests), in headless Chromium, on both stores: a linked person signs in and
approves a review; an unknown person is refused with a clear page and no session; revoking
the person here ends the session; the session ends at the ID token's expiry at the latest;
key sign-in can be switched off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from service.auth.identities import IdentityKind, link_identity
from service.auth.keys import create_key, revoke_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.browser import ARTIFACTS, chromium
from tests.fixtures import AUDIT_KEY, REFUND, RULES
from tests.identity.provider import openid_provider
from tests.loopback import free_port, serving
from tests.store_access import store

pytestmark = pytest.mark.integration
SECRET = "pages-secret"


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}/"
    pages = {
        "client_id": "sluicegate-pages",
        "client_secret": SECRET,
        "redirect_uris": [public_url + "ui/login/oidc/callback"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    accounts = {"fiona-at-acme": {"email": "fiona@acme.example", "email_verified": True}}
    with openid_provider({"clients": [pages], "accounts": accounts}, tmp_path) as provider:
        database = database_engine(database_url)
        migrate(database)
        _, agent = create_key(database, name="refund-bot", role=Role.AGENT, scopes=["*"])
        fiona, _ = create_key(
            database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        link_identity(
            database, "fiona", kind=IdentityKind.OIDC, issuer=provider.issuer,
            subject="fiona-at-acme",
        )  # fmt: skip
        database.dispose()
        settings = Settings(
            database_url=database_url,
            rules=RULES,
            audit_signing_key=AUDIT_KEY,
            public_url=public_url,
            oidc_issuer=provider.issuer,
            oidc_client_id="sluicegate-pages",
            oidc_client_secret=SECRET,
            ui_key_sign_in=False,
        )
        with serving(settings, port=port) as gate:
            yield {
                "gate": gate,
                "agent": agent,
                "fiona_key_id": fiona.key_id,
                "database_url": database_url,
            }


def _sign_in_at_the_provider(page: Page, gate: str, login: str) -> None:
    page.goto(f"{gate}/ui")
    page.get_by_role("link", name="Sign in with your organisation").click()
    page.locator("input[name=login]").fill(login)  # oidc-provider's development login form
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]", has_text="Continue")
    if consent.count():
        consent.click()


def test_a_linked_person_signs_in_and_approves_and_revoking_them_ends_it(
    world: dict[str, Any],
) -> None:
    gate = world["gate"]
    decided = httpx.post(
        f"{gate}/v1/decisions", json=REFUND, headers={"Authorization": f"Bearer {world['agent']}"}
    ).json()
    assert decided["outcome"] == "route_to_human"
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page()
        _sign_in_at_the_provider(page, gate, "fiona-at-acme")
        expect(page.get_by_role("heading", name="Your queues")).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_contain_text("fiona")
        page.screenshot(path=ARTIFACTS / "oidc-signed-in.png", full_page=True)
        page.get_by_role("link", name="finance-approvers").click()
        page.get_by_role("link", name="payments.refund.issue").click()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_contain_text("approved")

        with store(world["database_url"]) as db:
            row = db.execute(text("SELECT created_at, expires_at FROM ui_sessions")).one()
        created, expires = (_moment(row.created_at), _moment(row.expires_at))
        assert expires - created <= timedelta(seconds=600)  # the ID token's, not 8 hours

        database = database_engine(world["database_url"])
        revoke_key(database, world["fiona_key_id"])
        database.dispose()
        page.goto(f"{gate}/ui/queues")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    status = httpx.get(
        f"{gate}/v1/decisions/{decided['decision_id']}",
        headers={"Authorization": f"Bearer {world['agent']}"},
    ).json()
    assert status["status"] == "approved"


def test_an_unknown_person_is_refused_with_a_clear_page_and_no_session(
    world: dict[str, Any],
) -> None:
    with chromium() as browser:
        page = browser.new_page()
        _sign_in_at_the_provider(page, world["gate"], "mallory-at-acme")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("not linked to anyone here")
        expect(alert).to_contain_text("--oidc-subject mallory-at-acme")
        assert not [c for c in page.context.cookies() if c["name"] == "sg_session"]
    with store(world["database_url"]) as db:
        assert db.execute(text("SELECT count(*) FROM ui_sessions")).scalar_one() == 0
    # Key sign-in is switched off here: a pasted key opens nothing.
    refused = httpx.post(
        f"{world['gate']}/ui/login", data={"key": world["agent"], "csrf_token": "x"}
    )
    assert refused.status_code == 403
    assert "Key sign-in is switched off" in refused.text


def _moment(value: Any) -> datetime:
    """A stored time as read back by a raw query (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
