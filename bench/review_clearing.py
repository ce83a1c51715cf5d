"""What clearing twenty routine reviews costs a reviewer: inputs (clicks and keys) and page
loads, in Chromium against a served gateway, three ways:

- one by one with the mouse, as the pages allowed before the reviewer's-day work (the
  queue, the review, Approve, back to the queue);
- one by one from the keyboard (`o` opens the first, then `a` approves and `n` goes on);
- together: `X` selects every review shown, then Tab and Enter approve them in one go.

Each run starts from the signed-in queue page and ends with the twenty approved (checked
through the API). Prints the counts and the wall time of each.

    python -m bench.review_clearing
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.browser import _FLAGS, chromium_path
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import serving

REVIEWS = 20
QUEUE = "finance-approvers"


def _refund(index: int) -> dict[str, object]:
    return {
        "action": {"type": "payments.refund.issue", "target": "stripe", "environment": "production",
                   "amount": {"value": 2000 + index, "currency": "USD"}},
        "justification": f"Duplicate charge {index}", "confidence": 0.9,
        "work_item": {"id": f"WI-{index}", "type": "billing-dispute"},
    }  # fmt: skip


class Counted:
    """A page whose loads and inputs are counted."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.loads = 0
        self.inputs = 0
        page.on("load", lambda _: self._loaded())

    def _loaded(self) -> None:
        self.loads += 1

    def press(self, key: str, *, loads: bool = True) -> None:
        """Press a key; when it loads a page, wait until that page has loaded."""
        self.inputs += 1
        if not loads:
            self.page.keyboard.press(key)
            return
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def click(self, selector: str) -> None:
        """Click what loads a page, and wait until it has loaded."""
        self.inputs += 1
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()


def by_mouse(counted: Counted, base: str) -> None:
    for _ in range(REVIEWS):
        counted.click("a.open-review")
        counted.click("form.approve-form button[type=submit]")
        counted.page.goto(f"{base}/ui/queues/{QUEUE}")  # back to the queue: a load, no input
        counted.inputs += 1  # following the queue's link back


def by_keyboard(counted: Counted, base: str) -> None:
    counted.press("j", loads=False)
    counted.press("o")
    for index in range(REVIEWS):
        counted.press("a")
        if index < REVIEWS - 1:
            counted.press("n")


def together(counted: Counted, base: str) -> None:
    counted.press("X", loads=False)
    counted.page.get_by_label("Note for each approval (optional)").focus()
    counted.inputs += 1  # one Tab from the table to the note
    counted.press("Tab", loads=False)
    counted.press("Enter")


def _run(way: Callable[[Counted, str], None]) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory(prefix="sluicegate-clearing-") as folder:
        url = f"sqlite:///{Path(folder) / 'gate.db'}"
        settings = Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)
        engine = database_engine(url)
        migrate(engine)
        _, agent = create_key(engine, name="billing-bot", role=Role.AGENT, scopes=["*"])
        _, reviewer = create_key(
            engine, name="fiona", role=Role.REVIEWER, scopes=[f"group:{QUEUE}"]
        )
        engine.dispose()
        with serving(settings) as base, sync_playwright() as playwright:
            as_agent = {"Authorization": f"Bearer {agent}"}
            for index in range(REVIEWS):
                sent = httpx.post(f"{base}/v1/decisions", json=_refund(index), headers=as_agent)
                sent.raise_for_status()
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/ui/queues/{QUEUE}")
            page.get_by_label("API key").fill(reviewer)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/ui/queues/{QUEUE}")
            counted = Counted(page)
            started = time.perf_counter()
            way(counted, base)
            took = time.perf_counter() - started
            browser.close()
            left = httpx.get(f"{base}/v1/reviews", params={"state": "pending"},
                             headers={"Authorization": f"Bearer {reviewer}"}).json()  # fmt: skip
            assert left == [], f"{len(left)} reviews left"
    return counted.inputs, counted.loads, took


def main() -> None:
    print(f"clearing {REVIEWS} routine reviews      inputs   page loads   seconds")
    for name, way in (
        ("one by one, mouse (before)", by_mouse),
        ("one by one, keyboard", by_keyboard),
        ("together (X, Tab, Enter)", together),
    ):
        inputs, loads, took = _run(way)
        print(f"{name:<34} {inputs:>6}   {loads:>10}   {took:>7.1f}")


if __name__ == "__main__":
    main()
