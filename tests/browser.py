"""Headless Chromium for page tests: Debian's `chromium`, driven by Playwright for Python."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.integration import unavailable

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
