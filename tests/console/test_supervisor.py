"""The supervisor board in real Chromium, and the 403 page an agent gets instead."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.console.support import NAMED_AGENT, SUPERVISOR, ZHANG_WEI, Service, shot

LIVE = 20_000


def test_supervisor_sees_every_queue_and_agent(
    agent_page: Callable[..., Page], service: Service
) -> None:
    page = agent_page(SUPERVISOR, "/console/supervisor")
    expect(page.locator("h2", has_text="各团队队列")).to_be_visible()
    teams = page.locator("#teams-body tr")
    expect(teams.first).to_be_visible()
    for name in ("VIP客户服务部", "客户挽留组", "投诉处理组", "综合客服组"):
        expect(page.locator("#teams-body", has_text=name)).to_be_visible()
    expect(page.locator("#agents-body tr", has_text="李娜")).to_contain_text("KN1042")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )

    # A new escalation moves the board without a reload.
    before = int(page.locator("#kpi-waiting").inner_text())
    service.handed_over(ZHANG_WEI)
    expect(page.locator("#kpi-waiting")).to_have_text(str(before + 1), timeout=LIVE)

    page.locator('#agent-filters .chip[data-filter="offline"]').click()
    rows = page.locator("#agents-body tr")
    expect(rows.first).to_have_attribute("data-presence", "offline")
    page.locator('#agent-filters .chip[data-filter="all"]').click()
    shot(page, "supervisor")


def test_agent_gets_403_on_the_board(agent_page: Callable[..., Page]) -> None:
    page = agent_page(NAMED_AGENT, "/console/supervisor")
    expect(page.locator("h1")).to_have_text("无权访问此页面")
    expect(page.locator(".forbidden-code")).to_have_text("403")
    expect(page.locator('.topnav-link[href="/console/supervisor"]')).to_have_count(0)
    shot(page, "forbidden")
