"""投诉工单 in real Chromium against a live CRM: the team's queue with live SLA
countdowns, its filters, acknowledge then resolve with a refund through the
buttons, another team's refusal, the supervisor's complaints panel, live rows, and
ticket text that stays text."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine

from tests.console.support import Service, shot, shot_of
from tests.console.test_tickets_api import (
    DESK,
    DESK_AGENT,
    OTHER_TEAM_AGENT,
    agent_client,
    open_ticket,
)
from tests.live_crm import LiveCrm

LIVE = 20_000  # ms: a websocket hint
DESKTOP = {"width": 1440, "height": 900}
SUPERVISOR = "KN1031"  # 曹丽华, supervisor of the general desk
CUSTOMER = 22


@pytest.fixture(scope="module")
def db(console_crm: LiveCrm) -> Iterator[Engine]:
    """The live CRM's database, to set a ticket's deadlines."""
    engine = create_engine(console_crm.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _row(page: Page, ticket: dict[str, object]):  # type: ignore[no-untyped-def]
    return page.locator(f'#tk-body tr[data-ticket-no="{ticket["ticket_no"]}"]')


def _chip(page: Page, group: str, value: str) -> None:
    page.locator(f'#{group} .chip[data-{group[3:]}="{value}"]').click()


def test_queue_counts_down_sorts_and_filters(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    calm = open_ticket(
        console_crm, db, ack_in=timedelta(hours=20), customer_id=CUSTOMER
    )
    soon = open_ticket(
        console_crm, db, ack_in=timedelta(minutes=30), customer_id=CUSTOMER
    )
    late = open_ticket(
        console_crm, db, ack_in=-timedelta(hours=2), customer_id=CUSTOMER
    )
    page = agent_page(DESK_AGENT, "/console/tickets")
    page.set_viewport_size(DESKTOP)
    expect(page.locator('.topnav-link[href="/console/tickets"]')).to_have_class(
        re.compile("is-active")
    )
    for ticket in (calm, soon, late):
        expect(_row(page, ticket)).to_be_visible()

    # nearest deadline first: the breached one, then the one due in 30 minutes
    order = page.locator("#tk-body tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ticketNo)"
    )
    mine = [late["ticket_no"], soon["ticket_no"], calm["ticket_no"]]
    assert [n for n in order if n in mine] == mine

    late_ack = _row(page, late).locator(".tk-due-ack .cd")
    expect(late_ack).to_have_class(re.compile("cd-breached"))
    expect(late_ack).to_contain_text("已超时")
    soon_ack = _row(page, soon).locator(".tk-due-ack .cd")
    expect(soon_ack).to_have_class(re.compile("cd-soon"))
    expect(soon_ack).to_have_text(re.compile(r"^剩 (29|30):\d\d$"))
    expect(_row(page, calm).locator(".tk-due-ack .cd")).to_have_class(
        re.compile("cd-ok")
    )
    # the countdown ticks by itself
    before = soon_ack.inner_text()
    expect(soon_ack).not_to_have_text(before, timeout=5_000)
    expect(_row(page, soon)).to_contain_text(DESK)
    expect(_row(page, soon).locator(".tk-cust-phone")).to_have_text(
        re.compile(r"^1\d{2}\*{4}\d{4}$")
    )
    shot(page, "tickets-queue")

    _chip(page, "tk-sla", "breached")
    expect(_row(page, late)).to_be_visible()
    expect(_row(page, soon)).to_have_count(0)
    expect(_row(page, calm)).to_have_count(0)

    _chip(page, "tk-sla", "soon")
    expect(_row(page, soon)).to_be_visible()
    expect(_row(page, late)).to_have_count(0)
    expect(_row(page, calm)).to_have_count(0)

    # 指派 through the dialog (to myself), then 我的 shows only what is mine
    _chip(page, "tk-sla", "")
    _row(page, calm).click()
    detail = page.locator("#tk-detail")
    expect(detail.locator("#tk-title-no")).to_have_text(calm["ticket_no"])
    detail.locator('[data-verb="assign"]').click()
    page.locator('#tk-assign-agents .pick[data-name="唐慧"]').click()
    page.fill("#tk-assign-note", "我来跟进")
    page.locator("#tk-assign-submit").click()
    assigned = detail.locator('.tk-ev[data-kind="assigned"]')
    expect(assigned).to_contain_text("指派给 唐慧（KN1022） · 投诉处理组")
    expect(assigned).to_contain_text("我来跟进")
    expect(detail.locator('[data-verb="assign"]')).to_have_text("转派")
    _chip(page, "tk-scope", "mine")
    expect(_row(page, calm)).to_be_visible()
    expect(_row(page, calm)).to_contain_text("唐慧（我）")
    expect(_row(page, soon)).to_have_count(0)
    expect(page.locator("#tk-body tr").filter(has_not_text="唐慧（我）")).to_have_count(
        0
    )


def test_acknowledge_then_resolve_with_a_refund(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    ticket = open_ticket(
        console_crm, db, ack_in=timedelta(hours=3), customer_id=CUSTOMER
    )
    page = agent_page(DESK_AGENT, f"/console/tickets#t{ticket['id']}")
    detail = page.locator("#tk-detail")
    expect(detail.locator("#tk-title-no")).to_have_text(ticket["ticket_no"])
    expect(detail.locator('[data-verb="resolve"]')).to_have_count(0)

    detail.locator('[data-verb="acknowledge"]').click()
    expect(detail.locator(".tk-title .chip-s")).to_have_text("已受理")
    acknowledged = detail.locator('.tk-ev[data-kind="acknowledged"]')
    expect(acknowledged).to_contain_text("确认受理")
    expect(acknowledged).to_contain_text("唐慧（KN1022）")
    expect(detail.locator('[data-verb="acknowledge"]')).to_have_count(0)

    # an internal note is marked 内部
    detail.locator('[data-verb="notes"]').click()
    page.fill("#tk-text-input", "已调取扣款流水，确认重复扣费")
    page.locator("#tk-text-submit").click()
    note = detail.locator('.tk-ev[data-kind="note"]')
    expect(note).to_contain_text("内部")
    expect(note).to_contain_text("已调取扣款流水")

    detail.locator('[data-verb="resolve"]').click()
    dialog = page.locator("#dlg-tk-resolve")
    page.fill(
        "#tk-resolve-outcome", "经核实为重复扣费，已为您办理退款，3个工作日内原路退回。"
    )
    dialog.locator("label.outcome", has_text="退款").click()
    page.fill("#tk-refund-yuan", "12.345")
    page.locator("#tk-resolve-submit").click()
    expect(page.locator("#tk-resolve-error")).to_contain_text("退款金额")
    page.fill("#tk-refund-yuan", "128.50")
    page.locator("#tk-resolve-submit").click()
    expect(dialog).to_be_hidden()

    expect(detail.locator(".tk-title .chip-s")).to_have_text("已解决")
    resolved = detail.locator('.tk-ev[data-kind="resolved"]')
    expect(resolved).to_contain_text("解决")
    expect(resolved).to_contain_text("唐慧（KN1022）")
    expect(detail).to_contain_text("退款 ¥128.50")
    expect(detail.locator('[data-verb="close"]')).to_be_visible()
    expect(detail.locator('[data-verb="reopen"]')).to_be_visible()
    # the whole pane, once the toasts are gone
    page.set_viewport_size({"width": 1440, "height": 1800})
    expect(page.locator("#toasts .toast")).to_have_count(0, timeout=8_000)
    shot(page, "tickets-resolved")

    with agent_client(console_crm, DESK_AGENT) as desk:
        body = desk.get(f"/tickets/{ticket['id']}").json()
    assert (body["status"], body["remedy"], body["refund_fen"]) == (
        "resolved",
        "refund",
        12850,
    )
    kinds = [e["kind"] for e in body["events"]]
    assert kinds.index("acknowledged") < kinds.index("resolved")


def test_another_team_sees_no_access(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    ticket = open_ticket(
        console_crm, db, ack_in=timedelta(hours=6), customer_id=CUSTOMER
    )
    page = agent_page(OTHER_TEAM_AGENT, f"/console/tickets#t{ticket['id']}")
    page.set_viewport_size(DESKTOP)
    expect(page.locator("#tk-detail .tk-refused")).to_contain_text("无权处理该工单")
    expect(page.locator("#tk-body")).not_to_contain_text(str(ticket["ticket_no"]))
    expect(page.locator("#tk-detail [data-verb]")).to_have_count(0)
    shot(page, "tickets-forbidden")
    # without a session the page is the login form
    res = httpx.get(f"{console_crm.url}/console/tickets", timeout=15)
    assert res.status_code == 303
    assert res.headers["location"] == "/console/login?next=/console/tickets"


def test_supervisor_sees_the_complaints_panel(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    open_ticket(console_crm, db, ack_in=-timedelta(hours=1), customer_id=CUSTOMER)
    with agent_client(console_crm, SUPERVISOR) as boss:
        stats = boss.get("/tickets/stats").json()
        breaches = boss.get("/tickets/breaches").json()
    page = agent_page(SUPERVISOR, "/console/supervisor")
    page.set_viewport_size(DESKTOP)
    board = page.locator("#tk-board")
    expect(board.locator("h2")).to_have_text("投诉工单")
    expect(page.locator("#tk-kpi-backlog")).to_have_text(
        str(stats["overall"]["backlog"])
    )
    expect(page.locator("#tk-kpi-breached")).to_have_text(str(breaches["total"]))
    desk = next(b for b in stats["by_team"] if b["label"] == DESK)
    row = page.locator("#tk-by-team tr", has_text=DESK)
    expect(row.locator("td").nth(1)).to_have_text(str(desk["backlog"]))
    expect(row.locator(".bar-rate")).to_be_visible()
    expect(page.locator("#tk-by-category tr", has_text="扣费缴费")).to_be_visible()
    shot_of(board, "supervisor-tickets")


def test_a_new_ticket_appears_without_reload(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    page = agent_page(DESK_AGENT, "/console/tickets")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )
    page.evaluate("window.__sameDocument = true")
    ticket = open_ticket(
        console_crm, db, ack_in=timedelta(hours=4), customer_id=CUSTOMER
    )
    # with the socket open the page polls only every 2 minutes: this is the hint
    expect(_row(page, ticket)).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True


def test_ticket_text_stays_text(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    evil = '<img src=x onerror="window.__pwned=1">扣费有问题'
    ticket = open_ticket(
        console_crm,
        db,
        ack_in=timedelta(hours=8),
        customer_id=CUSTOMER,
        description=evil,
        desired_outcome="<script>window.__pwned=2</script>",
    )
    page = agent_page(DESK_AGENT, f"/console/tickets#t{ticket['id']}")
    expect(page.locator("#tk-detail .tk-desc")).to_have_text(evil)
    expect(page.locator("#tk-detail")).to_contain_text(
        "<script>window.__pwned=2</script>"
    )
    expect(page.locator("#tk-detail img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None


def test_a_ticket_from_chat_shows_its_transcript(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine, service: Service
) -> None:
    said = service.say(
        f"tickets-{uuid.uuid4().hex[:10]}",
        "我的保费被扣了两次<b>请处理</b>",
        customer_id=CUSTOMER,
    )
    service.bot(said["conversation_id"], "已为您登记投诉，工单号稍后发给您。")
    ticket = open_ticket(
        console_crm,
        db,
        ack_in=timedelta(hours=8),
        customer_id=CUSTOMER,
        conversation_id=said["conversation_id"],
    )
    page = agent_page(DESK_AGENT, f"/console/tickets#t{ticket['id']}")
    detail = page.locator("#tk-detail")
    expect(detail).to_contain_text(f"会话 #{said['conversation_id']}")
    detail.locator("#tk-show-chat").click()
    transcript = detail.locator(".tk-transcript")
    expect(transcript.locator(".msg-customer .msg-bubble")).to_have_text(
        "我的保费被扣了两次<b>请处理</b>"
    )
    expect(transcript.locator(".msg-bot .msg-bubble")).to_contain_text("已为您登记投诉")
    expect(transcript.locator("b")).to_have_count(0)
    # a verb redraws the pane; the transcript stays open
    detail.locator('[data-verb="acknowledge"]').click()
    expect(detail.locator(".tk-title .chip-s")).to_have_text("已受理")
    expect(detail.locator(".tk-transcript .msg-customer")).to_be_visible()


def test_ticked_rows_are_acknowledged_and_assigned_in_bulk(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    first, second, third = (
        open_ticket(
            console_crm, db, ack_in=timedelta(minutes=50 + i), customer_id=CUSTOMER
        )
        for i in range(3)
    )
    page = agent_page(DESK_AGENT, "/console/tickets")
    page.set_viewport_size(DESKTOP)
    bar = page.locator("#tk-bulk")
    expect(_row(page, third)).to_be_visible()
    expect(bar).to_be_hidden()

    def tick(ticket: dict[str, object]) -> None:
        _row(page, ticket).locator(".tk-pick input").check()

    # ticking is not opening: the detail pane stays empty
    tick(first)
    tick(second)
    expect(page.locator("#tk-bulk-count")).to_have_text("已选 2 张")
    expect(page.locator("#tk-detail")).to_be_hidden()
    expect(page.locator("#tk-pick-all")).to_have_js_property("indeterminate", True)
    shot(page, "tickets-bulk-bar")
    page.locator("#tk-bulk-ack").click()
    expect(
        page.locator("#toasts .toast-success", has_text="已确认受理 2 张工单")
    ).to_be_visible()
    for ticket in (first, second):
        expect(_row(page, ticket)).to_contain_text("已受理")
        expect(_row(page, ticket).locator(".tk-pick input")).not_to_be_checked()
    expect(bar).to_be_hidden()

    # one already acknowledged, one not: one goes through, the other is named
    tick(first)
    tick(third)
    page.locator("#tk-bulk-ack").click()
    expect(
        page.locator("#toasts .toast-success", has_text="已确认受理 1 张工单")
    ).to_be_visible()
    refused = page.locator("#toasts .toast-error")
    expect(refused).to_contain_text(
        f"1 张未处理 — {first['ticket_no']}：当前状态不能执行此操作"
    )
    expect(_row(page, third)).to_contain_text("已受理")

    # bulk assign through the same dialog, to a colleague of the desk
    tick(second)
    tick(third)
    page.locator("#tk-bulk-assign").click()
    dialog = page.locator("#dlg-tk-assign")
    expect(dialog.locator("#dlg-tk-assign-title")).to_have_text("批量指派 2 张工单")
    colleague = (
        dialog.locator("#tk-assign-agents .pick").filter(has_not_text="（我）").first
    )
    name = colleague.get_attribute("data-name")
    colleague.click()
    page.fill("#tk-assign-note", "批量转交")
    page.locator("#tk-assign-submit").click()
    expect(dialog).to_be_hidden()
    expect(
        page.locator("#toasts .toast-success", has_text="已指派 2 张工单")
    ).to_be_visible()
    for ticket in (second, third):
        expect(_row(page, ticket).locator(".tk-assignee")).to_contain_text(str(name))

    with agent_client(console_crm, DESK_AGENT) as desk:
        for ticket in (second, third):
            body = desk.get(f"/tickets/{ticket['id']}").json()
            assert body["status"] == "acknowledged"
            assert body["assignee"]["name"] == name
            moved = [e for e in body["events"] if e["kind"] == "assigned"][-1]
            assert moved["assign_note"] == "批量转交"
            assert moved["assigned_agent"]["name"] == name


def test_the_view_is_kept_in_the_address(
    agent_page: Callable[..., Page], console_crm: LiveCrm, db: Engine
) -> None:
    late = open_ticket(
        console_crm, db, ack_in=-timedelta(hours=3), customer_id=CUSTOMER
    )
    calm = open_ticket(
        console_crm, db, ack_in=timedelta(hours=21), customer_id=CUSTOMER
    )
    # a link to a view: breached billing complaints ("all" is no agent's choice)
    page = agent_page(
        DESK_AGENT, "/console/tickets?sla=breached&category=billing&scope=all"
    )
    page.set_viewport_size(DESKTOP)
    expect(page.locator('#tk-sla .chip[data-sla="breached"]')).to_have_class(
        re.compile("is-active")
    )
    expect(page.locator("#tk-category")).to_have_value("billing")
    expect(_row(page, late)).to_be_visible()
    expect(_row(page, calm)).to_have_count(0)
    assert page.evaluate("location.search") == "?sla=breached&category=billing"

    # a change is written back, and a reload keeps it
    _chip(page, "tk-sla", "")
    page.select_option("#tk-severity", "medium")
    expect(_row(page, calm)).to_be_visible()
    assert page.evaluate("location.search") == "?category=billing&severity=medium"
    _row(page, calm).click()
    expect(page.locator("#tk-title-no")).to_have_text(str(calm["ticket_no"]))
    assert page.evaluate("location.hash") == f"#t{calm['id']}"
    page.reload()
    expect(page.locator("#tk-severity")).to_have_value("medium")
    expect(page.locator('#tk-sla .chip[data-sla=""]')).to_have_class(
        re.compile("is-active")
    )
    expect(page.locator("#tk-title-no")).to_have_text(str(calm["ticket_no"]))
    expect(_row(page, late)).to_be_visible()
