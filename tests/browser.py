"""Real Chromium for page tests: Debian's browser driven by Playwright (no download).

Use the ``page`` fixture (a fresh context per test) or ``browser`` for several
contexts at once (a customer and an agent side by side). ``make browser`` installs
chromium and the CJK font; without chromium the browser tests fail, they never skip
in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system chromium, or a clear failure saying how to get it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed: run `make browser`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the test session."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


def new_context(browser: Browser, **kwargs: object) -> BrowserContext:
    """A fresh, isolated context (own cookies and storage), Chinese locale."""
    options: dict[str, object] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
    options.update(kwargs)
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in its own context, closed after the test."""
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under var/test-artifacts (look at it: CJK must render)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
