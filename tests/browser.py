"""Headless Chromium for page tests: Debian's `chromium`, driven by Playwright for Python."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.integration import unavailable

# axe-core from the npm registry (tests/axe/package.json; `make tools` runs npm ci there).
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# The impacts an accessibility check fails on.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# Screenshots land here (git-ignored) so a person can look at what the test saw.
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
_FLAGS = [
    "--no-sandbox",  # CI runs as root in a container, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]


def chromium_path() -> str:
    """The system Chromium (`SLUICEGATE_CHROMIUM` overrides); skip, or fail under CI."""
    found = os.environ.get("SLUICEGATE_CHROMIUM") or shutil.which("chromium")
    if found is None:
        unavailable("no `chromium` on PATH: `.ci/run` installs Debian's chromium package")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for one test; Playwright downloads nothing."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


def accessibility_problems(page: Page) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now, one line each
    (rule, impact, the first element); skip, or fail under CI, without axe-core."""
    if not AXE.exists():
        unavailable("no axe-core: `make tools` installs it from the npm registry (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
        for v in found
        if v.get("impact") in BLOCKING_IMPACTS
    ]
