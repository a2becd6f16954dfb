"""The agent workspace in real Chromium against a live CRM: login, the live queue,
accept, live chat both ways, notes, canned replies, transfer, resolve, and chat
text that stays text."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.console.support import (
    NAMED_AGENT,
    PASSWORD,
    ZHANG_WEI,
    ZHAO_LEI,
    ZHOU_QIANG,
    Service,
    agent_for,
    shot,
    shot_of,
)
from tests.live_crm import LiveCrm

LIVE = 20_000  # ms: a websocket hint, or at worst the page's slow poll


def _open(page: Page, escalation_id: int, tab: str = "queue") -> None:
    page.locator(f'#list-tabs .tab[data-tab="{tab}"]').click()
    item = page.locator(f'.qitem[data-id="{escalation_id}"]')
    expect(item).to_be_visible(timeout=LIVE)
    item.click()
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#brief-body .brief-head")).to_be_visible()


def _accept(page: Page) -> None:
    page.locator("#btn-accept").click()
    expect(page.locator("#composer-input")).to_be_enabled(timeout=LIVE)
    expect(page.locator("#btn-resolve")).to_be_visible()


def _bubble(page: Page, kind: str, text: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#transcript .msg-{kind} .msg-bubble", has_text=text)


def test_login_failure_then_success(page: Page, console_crm: LiveCrm) -> None:
    page.goto(console_crm.url + "/console/")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/$"))
    expect(page.locator("h1")).to_have_text("坐席登录")

    page.fill("#employee_no", NAMED_AGENT)
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("工号或密码错误，请重新输入")
    shot(page, "login-failed")

    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(console_crm.url + "/console/")
    expect(page.locator("#me-name")).to_have_text("李娜")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )


def test_queue_accept_and_live_chat(
    agent_page: Callable[..., Page], service: Service
) -> None:
    page = agent_page(NAMED_AGENT)
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )
    page.evaluate("window.__sameDocument = true")

    # The bot hands 张伟 over after the page loaded: the queue updates by itself.
    conversation, escalation = service.handed_over(
        ZHANG_WEI,
        reason="客户要求人工，咨询重疾险理赔材料",
        slots={"policy_number": "P3100000000001", "product_type": "重疾险"},
    )
    assert agent_for(escalation) == NAMED_AGENT
    item = page.locator(f'.qitem[data-id="{escalation["id"]}"]')
    expect(item).to_be_visible(timeout=LIVE)
    expect(item).to_contain_text("客户要求人工")
    expect(item.locator(".prio")).to_be_visible()
    expect(item.locator(".qitem-wait")).to_have_text(re.compile(r"^\d+:\d\d$"))

    _open(page, escalation["id"])
    brief = page.locator("#brief-body")
    expect(brief).to_contain_text("客户要求人工，咨询重疾险理赔材料")
    expect(brief).to_contain_text("P3100000000001")
    expect(brief).to_contain_text("保单号")
    customer = page.locator("#customer-body")
    expect(customer).to_contain_text("张伟")
    expect(customer).to_contain_text("李娜")
    expect(page.locator("#policies-body")).to_contain_text("康宁终身重大疾病保险")
    expect(_bubble(page, "bot", "智能客服小安")).to_be_visible()
    expect(page.locator("#chat-banner")).to_contain_text("请尽快接入")
    # Before accepting, only a private note can be written.
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bis-note\b"))
    page.click('.mode[data-mode="reply"]')
    expect(page.locator("#composer-input")).to_be_disabled()

    _accept(page)
    expect(page.locator("#transcript .msg-system")).to_contain_text("李娜")
    assert service.conversation(conversation["id"])["status"] == "agent"

    # The customer writes (through the gateway's service call): it appears live.
    service.say(conversation["external_id"], "我上个月住院了，理赔要准备什么材料？")
    expect(_bubble(page, "customer", "理赔要准备什么材料")).to_be_visible(timeout=LIVE)

    # The agent answers with Enter; the CRM records it as the agent's message.
    page.fill("#composer-input", "您好张先生，请准备住院病历、发票和费用清单。")
    page.press("#composer-input", "Enter")
    expect(_bubble(page, "agent", "请准备住院病历")).to_be_visible()
    sent = [m for m in service.transcript(conversation["id"]) if m["sender"] == "agent"]
    assert [m["text"] for m in sent] == ["您好张先生，请准备住院病历、发票和费用清单。"]

    # A private note: yellow in the console, absent from the service transcript.
    page.click('.mode[data-mode="note"]')
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bis-note\b"))
    page.fill("#composer-input", "客户情绪平稳，已提示补充材料")
    page.press("#composer-input", "Enter")
    expect(_bubble(page, "note", "客户情绪平稳")).to_be_visible()
    texts = [m["text"] for m in service.transcript(conversation["id"])]
    assert "客户情绪平稳，已提示补充材料" not in texts

    # Canned replies: "/" searches, the server fills the customer's name.
    page.click('.mode[data-mode="reply"]')
    page.fill("#composer-input", "")
    page.type("#composer-input", "/")
    expect(page.locator("#canned")).to_be_visible()
    first = page.locator("#canned-list .canned-item").first
    expect(first).to_be_visible()
    first.click()
    expect(page.locator("#canned")).to_be_hidden()
    filled = page.input_value("#composer-input")
    assert filled and "{" not in filled
    shot(page, "workspace-chat")

    assert page.evaluate("window.__sameDocument") is True


def test_new_message_in_another_conversation_is_flagged(
    agent_page: Callable[..., Page], service: Service
) -> None:
    first_conv, first = service.handed_over(ZHANG_WEI)
    second_conv, second = service.handed_over(ZHANG_WEI, text="还是转人工吧")
    employee_no = agent_for(first)
    page = agent_page(employee_no)
    for escalation in (first, second):
        _open(page, escalation["id"])
        _accept(page)
    # The second is open; the customer of the first writes.
    service.say(first_conv["external_id"], "在吗？")
    row = page.locator(f'.qitem[data-id="{first["id"]}"]')
    expect(page.locator('[data-unread="mine"]')).to_be_visible(timeout=LIVE)
    expect(row).to_have_class(re.compile(r"\bis-unread\b"), timeout=LIVE)
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    row.click()
    expect(row).not_to_have_class(re.compile(r"\bis-unread\b"))
    expect(_bubble(page, "customer", "在吗？")).to_be_visible()
    for escalation in (first, second):
        _resolve_via_page(page, escalation["id"])
    del second_conv


def _resolve_via_page(
    page: Page, escalation_id: int, outcome: str = "问题已解决"
) -> None:
    _open(page, escalation_id, tab="mine")
    expect(page.locator("#btn-resolve")).to_be_visible()
    page.click("#btn-resolve")
    dialog = page.locator("#dlg-resolve")
    expect(dialog).to_be_visible()
    dialog.locator(".outcome", has_text=outcome).click()
    page.click("#resolve-submit")
    expect(dialog).to_be_hidden()
    expect(page.locator("#chat-banner")).to_contain_text("会话已结束", timeout=LIVE)


def test_resolve_hands_back_to_the_bot(
    agent_page: Callable[..., Page], service: Service
) -> None:
    conversation, escalation = service.handed_over(ZHANG_WEI)
    page = agent_page(agent_for(escalation))
    _open(page, escalation["id"])
    _accept(page)
    page.click("#btn-resolve")
    expect(page.locator("#dlg-resolve")).to_be_visible()
    page.locator("#dlg-resolve .outcome", has_text="需后续跟进").click()
    page.fill("#resolve-note", "已说明理赔材料")
    shot(page, "resolve-dialog")
    page.click("#resolve-submit")
    expect(page.locator("#chat-banner")).to_contain_text("需后续跟进", timeout=LIVE)
    expect(page.locator("#composer-input")).to_be_disabled()
    expect(page.locator(f'.qitem[data-id="{escalation["id"]}"]')).to_have_count(0)

    after = service.escalation(escalation["id"])
    assert after["status"] == "closed"
    assert after["outcome"] == "follow_up"
    assert service.conversation(conversation["id"])["status"] == "bot"


def test_transfer_to_a_colleague_with_a_note(
    agent_page: Callable[..., Page], service: Service
) -> None:
    conversation, escalation = service.handed_over(ZHANG_WEI)
    page = agent_page(agent_for(escalation))
    _open(page, escalation["id"])
    _accept(page)

    page.click("#btn-transfer")
    dialog = page.locator("#dlg-transfer")
    expect(dialog).to_be_visible()
    target = dialog.locator('#transfer-agents .pick[data-name="彭佳"]')
    expect(target).to_be_visible()
    target.click()
    page.fill("#transfer-note", "客户需要理赔专员跟进")
    shot(page, "transfer-dialog")
    page.click("#transfer-submit")
    expect(dialog).to_be_hidden()

    after = service.escalation(escalation["id"])
    assert after["status"] == "queued"
    offered = after.get("offered_agent") or after.get("target_agent")
    assert offered and offered["name"] == "彭佳"

    colleague = agent_page("KN1032")
    _open(colleague, escalation["id"])
    expect(colleague.locator(".qitem.is-selected .qitem-target")).to_have_text("派给我")
    expect(_bubble(colleague, "note", "客户需要理赔专员跟进")).to_be_visible()
    _accept(colleague)
    assert service.conversation(conversation["id"])["assigned_agent"]["name"] == "彭佳"


def test_chat_text_is_never_html(
    agent_page: Callable[..., Page], service: Service
) -> None:
    attack = "<img src=x onerror=alert(1)>"
    conversation, escalation = service.handed_over(
        ZHANG_WEI,
        text=attack,
        reason="<script>alert(2)</script>",
        slots={"person_name": "<b onmouseover=alert(3)>张</b>"},
    )
    page = agent_page(agent_for(escalation))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, escalation["id"])
    expect(_bubble(page, "customer", attack)).to_have_text(attack)
    expect(page.locator("#brief-body")).to_contain_text("<script>alert(2)</script>")
    expect(page.locator("#brief-body")).to_contain_text(
        "<b onmouseover=alert(3)>张</b>"
    )
    _accept(page)
    service.say(conversation["external_id"], '"><svg onload=alert(4)>')
    expect(_bubble(page, "customer", "<svg onload=alert(4)>")).to_be_visible(
        timeout=LIVE
    )
    page.fill("#composer-input", "<img src=y onerror=alert(5)>")
    page.press("#composer-input", "Enter")
    expect(_bubble(page, "agent", "<img src=y onerror=alert(5)>")).to_be_visible()
    page.wait_for_timeout(500)
    assert page.locator("#transcript img, #transcript svg, #brief-body b").count() == 0
    assert dialogs == []
    shot(page, "xss-literal")


def test_presence_switch(agent_page: Callable[..., Page], service: Service) -> None:
    page = agent_page("KN1036")
    away = page.locator('.presence-opt[data-presence="away"]')
    away.click()
    expect(away).to_have_attribute("aria-checked", "true")
    expect(page.locator(".toast", has_text="状态已切换为「离开」")).to_be_visible()
    me = page.request.get("/api/v1/agent/me").json()
    assert me["presence"] == "away"
    page.locator('.presence-opt[data-presence="online"]').click()
    expect(page.locator('.presence-opt[data-presence="online"]')).to_have_attribute(
        "aria-checked", "true"
    )
    del service


def test_an_ended_session_goes_back_to_login(agent_page: Callable[..., Page]) -> None:
    page = agent_page("KN1033")
    expect(page.locator("#me-name")).to_have_text("曾小燕")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )
    page.wait_for_load_state("networkidle")  # the page's own reads are done
    assert page.request.post("/api/v1/agent/auth/logout").status == 204
    page.locator('.presence-opt[data-presence="away"]').click()
    expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2F$"))


def test_the_picture_shows_arrears_and_complaints(
    agent_page: Callable[..., Page], service: Service
) -> None:
    _, overdue = service.handed_over(ZHAO_LEI, trigger="payment_difficulty")
    page = agent_page(agent_for(overdue))
    _open(page, overdue["id"])
    expect(page.locator("#customer-body")).to_contain_text("赵磊")
    bills = page.locator("#bills-body")
    expect(bills.locator(".arrears.is-owing")).to_contain_text("欠费合计")
    expect(bills).to_contain_text("宽限期剩")
    expect(page.locator("#customer-body .reasons").first).to_contain_text("宽限期")
    shot_of(page.locator("#side"), "picture-arrears")

    _, complaint = service.handed_over(ZHOU_QIANG, trigger="angry_complaint")
    page = agent_page(agent_for(complaint))
    _open(page, complaint["id"])
    complaints = page.locator("#complaints-body")
    expect(complaints).to_contain_text("扣费")
    expect(complaints).to_contain_text("办结时限")
    expect(page.locator("#complaints-count")).to_have_text("1")


def test_decline_passes_the_offer_on(
    agent_page: Callable[..., Page], service: Service
) -> None:
    _, escalation = service.handed_over(ZHANG_WEI)
    employee_no = agent_for(escalation)
    page = agent_page(employee_no)
    _open(page, escalation["id"])
    expect(page.locator("#btn-decline")).to_be_visible()
    page.click("#btn-decline")
    expect(page.locator("#chat-empty")).to_be_visible()
    after = service.escalation(escalation["id"])
    assert after["status"] == "queued"
    offered = after.get("offered_agent")
    assert offered is None or offered["employee_no"] != employee_no
