"""Chromium: an auditor reads the canaries' section of the throughput page (a reviewer who
approved a should-reject check is flagged), and an author reads the rules page's chart of an
adaptive rate that fell after clean verdicts; neither page has a serious or critical
accessibility problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.canaries.scores import FLAG_MIN_ANSWERS
from service.runtime import Runtime
from service.settings import Settings
from tests.browser import ARTIFACTS, accessibility_problems, chromium
from tests.fixtures import AUDIT_KEY, REFUND, copy_of_pack
from tests.loopback import serving_app

pytestmark = pytest.mark.integration
CONTACT = {
    "action": {"type": "crm.contact.update", "environment": "production"},
    "changes": [{"record": "contact/1", "field": "title", "to": "CTO"}],
    "justification": "title changed", "confidence": 0.9,
}  # fmt: skip
STAGE = {
    "action": {"type": "crm.opportunity.update_stage", "environment": "production"},
    "changes": [{"record": "opportunity/7", "field": "stage", "to": "negotiation"}],
    "justification": "the buyer asked for terms", "confidence": 0.8,
}  # fmt: skip


def _pack(tmp_path: Path) -> Path:
    pack = copy_of_pack(tmp_path / "rules")
    canaries = {
        "queues": {"finance-approvers": {"every": 1}},
        "canaries": [
            {"id": "refund-elsewhere", "queue": "finance-approvers", "agent": "billing-bot",
             "expect": "reject", "why": "the account is not the customer's",
             "proposal": REFUND | {"justification": "duplicate charge"}},
        ],
    }  # fmt: skip
    (pack / "data" / "canaries.yaml").write_text(yaml.safe_dump(canaries))
    sampling = yaml.safe_load((pack / "data" / "sampling.yaml").read_text())
    sampling["production"]["1"] = {"rate": 0.5, "min": 0.02, "max": 1.0}
    sampling["adaptive"] = {"min_reviews": 1}
    (pack / "data" / "sampling.yaml").write_text(yaml.safe_dump(sampling))
    return pack


def _sign_in(page: Page, base: str, key: str, path: str) -> None:
    page.goto(f"{base}{path}")
    page.get_by_label("API key").fill(key)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}{path}")


def test_the_canaries_section_and_the_rate_chart(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=_pack(tmp_path),
        canary_tick_seconds=3600,
        sampling_tick_seconds=3600,
    )
    app = create_app(settings)
    ARTIFACTS.mkdir(exist_ok=True)
    with serving_app(app) as base, chromium() as browser:
        runtime: Runtime = app.state.runtime
        keys = {}
        for who, role, scopes in (
            ("billing-bot", Role.AGENT, ["*"]),
            ("fiona", Role.REVIEWER, ["group:finance-approvers"]),
            ("sam", Role.REVIEWER, ["group:sales-ops"]),
            ("audrey", Role.AUDITOR, []),
            ("arthur", Role.AUTHOR, []),
        ):
            _, keys[who] = create_key(runtime.database, name=who, role=role, scopes=scopes)

        def call(who: str, method: str, path: str, body: Any = None) -> Any:
            answer = httpx.request(
                method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {keys[who]}"}
            )
            assert answer.status_code < 300, answer.text
            return answer.json()

        for _ in range(FLAG_MIN_ANSWERS):  # fiona approves every refund, the check too
            call("billing-bot", "POST", "/v1/decisions", REFUND)
            assert runtime.canaries.seed_due() == 1
            for review in call("fiona", "GET", "/v1/reviews?state=pending"):
                call("fiona", "POST", f"/v1/reviews/{review['id']}/approve", {})
        for _ in range(30):  # about 15 of each picked for post-hoc review
            call("billing-bot", "POST", "/v1/decisions", CONTACT)
            call("billing-bot", "POST", "/v1/decisions", STAGE)
        for review in call("sam", "GET", "/v1/reviews?limit=100"):
            bad = review["action_type"] == CONTACT["action"]["type"]  # type: ignore[index]
            verdict = "should_not_have_happened" if bad else "ok"
            body = {"verdict": verdict, "note": "checked the record"}
            call("sam", "POST", f"/v1/reviews/{review['id']}/verdict", body)
        assert runtime.rates.refresh() == 2  # contact updates up, stage updates down

        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        _sign_in(page, base, keys["audrey"], "/ui/throughput")
        expect(page).to_have_title("Throughput · Sluicegate")
        section = page.get_by_role("table", name="Are reviews real? Known-answer checks")
        fiona = section.get_by_role("row").filter(has_text="fiona")
        expect(fiona).to_contain_text("flagged")
        expect(fiona).to_contain_text("0 (0%)")
        page.screenshot(path=ARTIFACTS / "throughput-canaries.png", full_page=True)
        problems = {"throughput": accessibility_problems(page)}

        author = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        rules = author.new_page()
        _sign_in(rules, base, keys["arthur"], "/ui/rules")
        name = "crm.opportunity.update_stage in production, tier 1"
        expect(rules.get_by_role("img", name=name)).to_be_visible()
        caption = rules.locator("figure.rate-chart", has_text=name).locator("figcaption")
        expect(caption).to_contain_text("bounds 2% to 100%")
        expect(caption).to_contain_text("1 change")
        rules.screenshot(path=ARTIFACTS / "rules-rates.png", full_page=True)
        problems["rules"] = accessibility_problems(rules)
    assert problems == {"throughput": [], "rules": []}
