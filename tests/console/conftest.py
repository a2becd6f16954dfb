"""Console fixtures: a live CRM with the demo book, the service API, logged-in pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import new_context
from tests.console.support import PASSWORD, Service
from tests.live_crm import LiveCrm, start_crm

__all__ = ["agent_page", "console_crm", "service"]


@pytest.fixture(scope="session")
def console_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCrm]:
    """One CRM (PostgreSQL when reachable) whose offers never time out in a test."""
    crm = start_crm(
        tmp_path_factory.mktemp("console-crm"),
        customers=60,
        extra_env={"CRM_OFFER_TIMEOUT_SECONDS": "3600", "CRM_GATEWAY_URL": ""},
    )
    try:
        yield crm
    finally:
        crm.stop()


@pytest.fixture(scope="session")
def service(console_crm: LiveCrm) -> Iterator[Service]:
    """A service-token client of the live CRM."""
    with httpx.Client(
        base_url=console_crm.url,
        headers={"Authorization": f"Bearer {console_crm.token}"},
        timeout=15,
    ) as client:
        yield Service(client)


@pytest.fixture
def agent_page(browser: Browser, console_crm: LiveCrm) -> Iterator[Callable[..., Page]]:
    """Open the console as an agent (logged in through the API, cookie in the
    context); every context is closed after the test, which fails on any uncaught
    script error in the pages."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_as(employee_no: str, path: str = "/console/") -> Page:
        context = new_context(browser, base_url=console_crm.url)
        contexts.append(context)
        response = context.request.post(
            "/api/v1/agent/auth/login",
            data={"employee_no": employee_no, "password": PASSWORD},
        )
        assert response.ok, response.text()
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{employee_no}: {error}"))
        page.goto(path)
        return page

    try:
        yield open_as
    finally:
        for context in contexts:
            context.close()
    assert errors == [], "uncaught script errors in the console"
