"""A reviewer's day in Chromium, keyboard only: the queue's list to triage (j/k, o), a packet
approved (a), the next one (n) rejected with a note and a cause (r, Tab); five alike reviews
approved together, one refused by four eyes; the list readable at 1280 px and usable at
390 px; and no serious or critical accessibility problem (axe-core) on the list, the packet,
the throughput and the rules pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from service.auth.keys import create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.browser import ARTIFACTS, accessibility_problems, chromium
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import serving

pytestmark = pytest.mark.integration
QUEUE = "finance-approvers"


def _refund(value: int, work_item: str) -> dict[str, Any]:
    return {
        "action": {"type": "payments.refund.issue", "target": "stripe", "environment": "production",
                   "amount": {"value": value, "currency": "USD"}},
        "changes": [{"record": f"charge/{work_item}", "field": "status", "to": "refunded"}],
        "justification": f"Duplicate charge on {work_item}.", "confidence": 0.9,
        "work_item": {"id": work_item, "type": "billing-dispute"},
    }  # fmt: skip


@dataclass
class Day:
    base: str
    keys: dict[str, str]

    def post(self, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.base}{path}", json=body, headers={"Authorization": f"Bearer {self.keys[who]}"}
        )
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    def review(self, review_id: str) -> dict[str, Any]:
        answer = httpx.get(
            f"{self.base}/v1/reviews/{review_id}",
            headers={"Authorization": f"Bearer {self.keys['auditor']}"},
        )
        found: dict[str, Any] = answer.json()
        return found


@pytest.fixture
def day(database_url: str) -> Iterator[Day]:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    engine = database_engine(database_url)
    migrate(engine)
    keys = {}
    _, keys["fiona"] = create_key(
        engine, name="fiona", role=Role.REVIEWER, scopes=[f"group:{QUEUE}"]
    )
    create_key(engine, name="olga", role=Role.REVIEWER, scopes=[])
    for agent, owner in (("billing-bot", "olga"), ("fionas-bot", "fiona")):
        _, keys[agent] = create_key(
            engine,
            name=agent,
            role=Role.AGENT,
            scopes=["*"],
            owner_id=principal_named(engine, owner),
        )
    _, keys["auditor"] = create_key(engine, name="audrey", role=Role.AUDITOR, scopes=[])
    _, keys["author"] = create_key(engine, name="arthur", role=Role.AUTHOR, scopes=[])
    engine.dispose()
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(settings) as base:
        yield Day(base, keys)


def _sign_in(page: Page, base: str, key: str, then: str) -> None:
    page.goto(f"{base}{then}")
    page.get_by_label("API key").fill(key)  # the field is focused on load
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}{then}")


def test_a_reviewer_works_the_queue_from_the_keyboard(day: Day) -> None:
    routed = [
        day.post("billing-bot", "/v1/decisions", _refund(2000 + 100 * i, f"WI-{i}"))
        for i in range(3)
    ]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(page, day.base, day.keys["fiona"], f"/ui/queues/{QUEUE}")
        rows = page.locator("tr.review-row")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("billing-bot")
        expect(rows.first).to_contain_text("owner olga")
        expect(rows.first).to_contain_text("2,000.00")
        expect(rows.first).to_contain_text("Duplicate charge on WI-0.")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("k")
        expect(rows.first).to_have_class("review-row current")
        page.screenshot(path=ARTIFACTS / "triage-1280.png", full_page=True)
        page.keyboard.press("o")
        expect(page.get_by_role("heading", name="Its context")).to_be_visible()
        page.keyboard.press("a")
        expect(page.get_by_role("status")).to_contain_text("approved")
        page.keyboard.press("n")
        expect(page.get_by_text("Duplicate charge on WI-1.")).to_be_visible()
        page.keyboard.press("r")
        page.keyboard.type("The charge was never captured twice.")
        page.keyboard.press("Tab")  # to the cause
        page.keyboard.press("ArrowUp")  # "other" is chosen; one up is "the rules should have …"
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("rejected")
        page.keyboard.press("?")
        expect(page.get_by_role("dialog")).to_contain_text("the next open review")
    first, second = (day.review(decision["review"]["id"]) for decision in routed[:2])
    assert first["state"] == "approved"
    assert (second["state"], second["note"]) == ("rejected", "The charge was never captured twice.")
    assert second["cause"] == "policy_gap"


def test_five_alike_reviews_approved_together_one_refused_by_four_eyes(day: Day) -> None:
    for i in range(4):
        day.post("billing-bot", "/v1/decisions", _refund(2000 + i, f"WI-{i}"))
    day.post("fionas-bot", "/v1/decisions", _refund(3000, "WI-9"))  # fiona owns this agent
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(page, day.base, day.keys["fiona"], f"/ui/queues/{QUEUE}")
        expect(page.locator("tr.review-row")).to_have_count(5)
        for _ in range(5):
            page.keyboard.press("j")
            page.keyboard.press("x")
        expect(page.locator("input[name=review_id]:checked")).to_have_count(5)
        page.get_by_label("Note for each approval (optional)").focus()
        page.keyboard.type("Routine duplicates, checked against the ledger.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        results = page.get_by_role("region", name="Approved together")
        expect(page.get_by_role("status")).to_contain_text("4 of 5 approved.")
        expect(results.get_by_text("not approved")).to_have_count(1)
        expect(results).to_contain_text("four_eyes")
        page.screenshot(path=ARTIFACTS / "batch-approval.png", full_page=True)


def test_the_list_is_usable_at_390_px_and_the_pages_pass_axe(day: Day) -> None:
    decision = day.post("billing-bot", "/v1/decisions", _refund(2000, "WI-1"))
    with chromium() as browser:
        # The pages' CSP allows no inline script; axe-core is injected past it, for the test.
        reviewer = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = reviewer.new_page()
        _sign_in(page, day.base, day.keys["fiona"], f"/ui/queues/{QUEUE}")
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert fits, "the list scrolls sideways at 390 px"
        card = page.locator("tr.review-row").first
        assert card.evaluate("row => getComputedStyle(row).display") == "block"  # a card
        page.screenshot(path=ARTIFACTS / "triage-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        problems = {"list": accessibility_problems(page)}
        page.goto(f"{day.base}/ui/reviews/{decision['review']['id']}")
        problems["packet"] = accessibility_problems(page)
        for who, path, name in (
            ("auditor", "/ui/throughput", "throughput"),
            ("author", "/ui/rules", "rules"),
        ):
            other = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            signed_in = other.new_page()
            _sign_in(signed_in, day.base, day.keys[who], path)
            problems[name] = accessibility_problems(signed_in)
    assert problems == {"list": [], "packet": [], "throughput": [], "rules": []}
