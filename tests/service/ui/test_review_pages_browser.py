"""The review pages in a real browser: a reviewer signs in, opens the task, approves, and the
agent's long poll, waiting on the same gateway over HTTP, returns the approval."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.background import InBackground
from tests.browser import ARTIFACTS, chromium
from tests.fixtures import AUDIT_KEY, REFUND, RULES, pack_with_usd_limit
from tests.loopback import serving

pytestmark = pytest.mark.integration

# The shared refund with what a reviewer's packet shows: a target and the change to make.
STRIPE_REFUND: dict[str, Any] = {
    **REFUND,
    "action": {**REFUND["action"], "target": "stripe"},
    "changes": [
        {
            "record": "charge/ch_881",
            "field": "status",
            "from": "captured",
            "to": "refunded",
            "source": "ticket/T-4410",
        }
    ],
    "justification": "Duplicate charge on invoice INV-2211; the customer was billed twice.",
    "confidence": 0.92,
    "work_item": {"id": "WI-981", "type": "billing-dispute"},
}


def _keys(settings: Settings) -> tuple[str, str]:
    engine = database_engine(settings.database_url)
    migrate(engine)
    _, agent = create_key(engine, name="refund-bot", role=Role.AGENT, scopes=["payments.*"])
    _, reviewer = create_key(
        engine, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
    )
    engine.dispose()
    return agent, reviewer


def _sign_in_with_the_keyboard(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/ui")
    expect(page).to_have_url(f"{base}/ui/login?next=/ui/queues")
    page.get_by_label("API key").fill(key)  # the field is labelled and focused on load
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your queues")).to_be_visible()


def test_a_reviewer_approves_in_the_browser_and_the_waiting_agent_hears_at_once(
    database_url: str,
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    agent_key, reviewer_key = _keys(settings)
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        serving(settings) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {agent_key}"}, timeout=40
        ) as agent,
    ):
        decision = agent.post("/v1/decisions", json=STRIPE_REFUND).json()
        assert decision["outcome"] == "route_to_human"

        def long_poll() -> tuple[float, dict[str, Any]]:
            answer = agent.get(f"/v1/decisions/{decision['decision_id']}", params={"wait": 30})
            return time.monotonic(), answer.json()

        waiting = InBackground(long_poll, name="the agent's long poll")

        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            _sign_in_with_the_keyboard(page, base, reviewer_key)
            queue_row = page.get_by_role("row", name="finance-approvers")
            expect(queue_row).to_contain_text("due in")  # the SLA countdown runs
            page.screenshot(path=ARTIFACTS / "queues.png", full_page=True)
            page.get_by_role("link", name="finance-approvers").click()
            page.get_by_role("link", name="payments.refund.issue").click()

            changes = page.get_by_role("table")
            expect(changes).to_contain_text("charge/ch_881")
            expect(changes).to_contain_text("captured")
            expect(changes).to_contain_text("refunded")
            expect(page.get_by_text("Duplicate charge on invoice INV-2211")).to_be_visible()
            expect(page.get_by_text("money.irreversible_over_limit")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "review-page.png", full_page=True)

            page.get_by_label("Note (optional)").fill("Matches the duplicate on INV-2211.")
            page.get_by_role("button", name="Approve").click()
            expect(page.get_by_role("status")).to_contain_text("approved")
            approved_at = time.monotonic()
            page.screenshot(path=ARTIFACTS / "review-approved.png", full_page=True)

            cookie = next(c for c in page.context.cookies() if c["name"] == "sg_session")
            assert cookie["httpOnly"]
            assert cookie["secure"]
            assert cookie["sameSite"] == "Strict"

        heard_at, heard = waiting.result(timeout=35)
        assert heard["status"] == "approved"
        assert heard["review"]["approvals"] == 1
        # The product promise: the waiting agent hears within a second of the approval.
        assert heard_at - approved_at < 1.0


def test_forms_without_the_session_csrf_token_are_refused(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    agent_key, reviewer_key = _keys(settings)
    with serving(settings) as base, chromium() as browser:
        decision = httpx.post(
            f"{base}/v1/decisions",
            json=STRIPE_REFUND,
            headers={"Authorization": f"Bearer {agent_key}"},
        ).json()
        page = browser.new_page()
        _sign_in_with_the_keyboard(page, base, reviewer_key)
        review_id = decision["review"]["id"]
        # A forged form: the browser sends the session cookie, but not the page's token.
        answer = page.request.post(
            f"{base}/ui/reviews/{review_id}/approve", form={"csrf_token": "forged", "note": "x"}
        )
        assert answer.status == 403
        page.goto(f"{base}/ui/reviews/{review_id}")
        expect(page.locator("#review-state")).to_have_text("pending")


def test_an_auditor_sees_throughput_charts(database_url: str) -> None:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    agent_key, reviewer_key = _keys(settings)
    engine = database_engine(settings.database_url)
    _, auditor_key = create_key(engine, name="audrey", role=Role.AUDITOR, scopes=[])
    _, crm_key = create_key(engine, name="crm-bot", role=Role.AGENT, scopes=["crm.*"])
    engine.dispose()
    note = {
        "action": {"type": "crm.contact.update", "environment": "sandbox"},
        "changes": [{"record": "contact/1", "field": "title", "to": "CTO", "source": "x"}],
        "work_item": {"id": "WI-2", "type": "crm-hygiene"},
    }
    with serving(settings) as base, chromium() as browser:
        agent = {"Authorization": f"Bearer {agent_key}"}
        crm = {"Authorization": f"Bearer {crm_key}"}
        reviewer = {"Authorization": f"Bearer {reviewer_key}"}
        for body in (STRIPE_REFUND, STRIPE_REFUND):
            httpx.post(f"{base}/v1/decisions", json=body, headers=agent)
        for _ in range(3):
            decision = httpx.post(f"{base}/v1/decisions", json=note, headers=crm).json()
        refunds = httpx.get(f"{base}/v1/reviews", headers=reviewer).json()
        httpx.post(f"{base}/v1/reviews/{refunds[0]['id']}/approve", json={}, headers=reviewer)
        httpx.post(
            f"{base}/v1/reviews/{refunds[1]['id']}/reject", json={"note": "no"}, headers=reviewer
        )
        httpx.post(
            f"{base}/v1/decisions/{decision['decision_id']}/outcome",
            json={"status": "executed", "artifact": {"record_url": "u", "updated_fields": ["t"]}},
            headers=crm,
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        _sign_in_with_the_keyboard(page, base, auditor_key)
        page.get_by_role("link", name="Throughput").click()
        # Readable at 1280 px: nothing wider than the window, no table wider than its box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate(
            "[...document.querySelectorAll('table')].every(t =>"
            " t.getBoundingClientRect().right <= window.innerWidth"
            " && t.scrollWidth <= t.clientWidth + 1)"
        )
        expect(page.get_by_role("img", name="Decisions by outcome")).to_be_visible()
        expect(
            page.get_by_role("img", name="Time to done and time waiting on people (p90)")
        ).to_be_visible()
        quality = page.get_by_role("table", name="Quality, per group")
        refund_row = quality.get_by_role("row", name="payments.refund.issue")
        expect(refund_row).to_contain_text("50%")  # first-pass approval: one of two
        expect(refund_row).to_contain_text("other 1")  # the rejection's cause, by default
        flow = page.get_by_role("table", name="Flow, per group")
        expect(flow.get_by_role("row", name="crm.contact.update")).to_contain_text("3")
        page.screenshot(path=ARTIFACTS / "throughput.png", full_page=True)
        page.get_by_role("link", name="Group by work item type").click()
        expect(flow.get_by_role("row", name="billing-dispute")).to_be_visible()


def test_an_author_sees_impact_and_shadow_reports(database_url: str, tmp_path: Path) -> None:
    candidates = tmp_path / "candidates"
    pack_with_usd_limit(candidates / "usd-500", 500)
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        candidates_dir=candidates,
        shadow_tick_seconds=0.1,
    )
    engine = database_engine(settings.database_url)
    migrate(engine)
    _, agent_key = create_key(engine, name="billing-bot", role=Role.AGENT, scopes=["*"])
    _, author_key = create_key(engine, name="carla", role=Role.AUTHOR, scopes=[])
    engine.dispose()
    agent = {"Authorization": f"Bearer {agent_key}"}
    author = {"Authorization": f"Bearer {author_key}"}

    def credit(value: int) -> None:
        body = {
            "action": {"type": "billing.invoice.adjust", "environment": "production",
                       "amount": {"value": value, "currency": "USD"}},
            "work_item": {"id": "WI-1"}, "justification": "credit", "confidence": 0.9,
        }  # fmt: skip
        assert httpx.post(f"{base}/v1/decisions", json=body, headers=agent).status_code == 201

    with serving(settings) as base, chromium() as browser:
        for value in (200, 800):
            credit(value)
        impact = httpx.post(
            f"{base}/v1/rules/impact", json={"candidate": "usd-500"}, headers=author
        )
        assert impact.status_code == 200, impact.text
        started = httpx.post(
            f"{base}/v1/rules/shadow", json={"candidate": "usd-500"}, headers=author
        )
        assert started.status_code == 201, started.text
        time.sleep(0.5)  # the gateway follows the run within its shadow tick
        for value in (300, 900, 950):
            credit(value)
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/v1/rules/shadow", headers=author).json()["decisions"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        _sign_in_with_the_keyboard(page, base, author_key)
        page.get_by_role("link", name="Rules").click()
        expect(page.get_by_role("img", name="Agreement by action type")).to_be_visible()
        expect(page.get_by_text("1 of 3 (33.3%)")).to_be_visible()
        expect(
            page.get_by_role("img", name="What the latest candidate would have changed")
        ).to_be_visible()
        impacts = page.get_by_role("table", name="Impact reports")
        expect(impacts.get_by_role("row").nth(1)).to_contain_text("2 of 2")  # fidelity
        page.screenshot(path=ARTIFACTS / "rules.png", full_page=True)
