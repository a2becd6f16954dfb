"""End-to-end fixtures: a live CRM, a real Rasa server and its action server, and
browser pages for the modules that start a whole stack (their own ``stack``)."""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import new_context
from tests.rasa_fixtures import live_crm, rasa_model, rasa_server

__all__ = ["live_crm", "rasa_model", "rasa_server"]


@pytest.fixture
def pages(browser: Browser, stack: object) -> Iterator[Callable[[str], Page]]:
    """Open pages in fresh contexts (after the module's ``stack`` is up); no
    uncaught script error in any of them."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(name: str) -> Page:
        context = new_context(browser)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{name}: {error}"))
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()
    assert errors == [], "uncaught script errors"
