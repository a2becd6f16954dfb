"""Human takeover end to end, in real Chromium, through the whole real stack.

A customer on the gateway's chat page (/chat) talks to the real Rasa server and
action server; the CRM (PostgreSQL when reachable) routes the escalation and posts
its events to the gateway; the named agent works in the CRM's console (/console/).
Scenarios of issue 4 ("Browser tests"):

1. 张伟 verifies, asks for a person, sees his named agent 李娜; 李娜 logs in, sees the
   brief, accepts; both chat live (two pages, no reload); she resolves; the bot asks
   for a score, he gives 5, the CRM stores it; his next question goes to the bot.
2. A VIP complaint (林慧敏) is routed to her named account manager 陈思远.
3. Named agent offline → the general desk.
4. Nobody online → a call-back task for the named agent and an honest message.
5. The named agent lets the offer expire → the next agent gets it and accepts.

One stack for the module: the CRM runs with a short offer timeout (OFFER_TIMEOUT),
so scenario 1 accepts well within it and scenario 5 waits for it. Each scenario
closes its conversations and puts presence back. 张伟 stands in for the issue's
孙丽, whose named agent (田宇 KN1074) is offline in the demo book. Screenshots:
var/test-artifacts/takeover-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from bot.messages import NOTICE_HANDBACK
from crm_backend.escalations import routing
from tests.bot.test_chat_page import open_chat, send, session_id
from tests.browser import screenshot
from tests.console.support import PASSWORD
from tests.e2e.stack import Stack, running_stack
from tests.rasa_fixtures import rasa_model

__all__ = ["rasa_model"]  # fixtures used here

pytestmark = pytest.mark.rasa

OFFER_TIMEOUT = 15  # seconds (the CRM's minimum is 5)
BOT = 30_000  # ms: a real Rasa turn on a busy 2-core machine
LIVE = 15_000  # ms: a pushed message or queue hint

ZHANG_WEI = ("13800138001", "2739")  # named agent 李娜 KN1042 (sales, online)
LIN_HUIMIN = ("13800138002", "1249")  # VIP; named account manager 陈思远 KN1002
LI_NA = ("KN1042", "李娜")
CHEN_SIYUAN = ("KN1002", "陈思远")
# The general desk's online agents (KN1034 is away): the team of topic "general".
GENERAL_ONLINE = ("KN1031", "KN1032", "KN1033", "KN1036")
GENERAL_DESK = "综合客服组"


@pytest.fixture(scope="module")
def stack(
    rasa_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """CRM + action server + Rasa + gateway, wired to each other."""
    with running_stack(
        tmp_path_factory.mktemp("takeover-stack"),
        model=rasa_model,
        offer_timeout=OFFER_TIMEOUT,
    ) as started:
        yield started


# ---- the customer's page --------------------------------------------------------


def customer_page(pages: Callable[[str], Page], stack: Stack) -> Page:
    """The chat page, connected."""
    page = pages("customer")
    open_chat(page, stack.gateway)
    page.evaluate("window.__sameDocument = true")
    return page


def bot_says(page: Page, text: str | re.Pattern[str]) -> None:
    """A bot bubble with this text shows up."""
    expect(page.locator(".msg-bot .bubble", has_text=text).last).to_be_visible(
        timeout=BOT
    )


def verify(page: Page, phone: str, last4: str, first: str = "查询我的保单") -> None:
    """Ask something personal, then verify with phone and ID last 4."""
    send(page, first)
    bot_says(page, "手机号码")
    send(page, phone)
    bot_says(page, "后四位")
    send(page, last4)
    bot_says(page, "身份核实成功")


def conversation(stack: Stack, page: Page) -> dict[str, Any]:
    """The CRM conversation behind the page's chat session."""
    return stack.conversation_of(session_id(page))


def open_escalation(stack: Stack, page: Page) -> dict[str, Any]:
    """The conversation's open escalation (as the bot and gateway see it)."""
    state = conversation(stack, page)
    assert state["open_escalation_id"], state
    return stack.escalation(int(state["open_escalation_id"]))


# ---- the agent's console ----------------------------------------------------------


def console_login(
    pages: Callable[[str], Page], stack: Stack, agent: tuple[str, str]
) -> Page:
    """Log in through the console's login page; the live channel is open."""
    employee_no, name = agent
    page = pages(employee_no)
    page.goto(f"{stack.crm.url}/console/")
    expect(page.locator("h1")).to_have_text("坐席登录")
    page.fill("#employee_no", employee_no)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#me-name")).to_have_text(name)
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )
    page.evaluate("window.__sameDocument = true")
    return page


def console_open(page: Page, escalation_id: int, tab: str = "queue") -> None:
    """Select a conversation in the list; its brief shows."""
    page.locator(f'#list-tabs .tab[data-tab="{tab}"]').click()
    item = page.locator(f'.qitem[data-id="{escalation_id}"]')
    expect(item).to_be_visible(timeout=LIVE)
    item.click()
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#brief-body .brief-head")).to_be_visible()


def console_accept(page: Page) -> None:
    """Take the selected conversation."""
    page.locator("#btn-accept").click()
    expect(page.locator("#composer-input")).to_be_enabled(timeout=LIVE)
    expect(page.locator("#btn-resolve")).to_be_visible()


def console_bubble(page: Page, kind: str, text: str) -> Locator:
    """A message of ``kind`` (customer, agent, bot, system, note) in the transcript."""
    return page.locator(f"#transcript .msg-{kind} .msg-bubble", has_text=text)


def rasa_heard(stack: Stack, conversation_id: int) -> list[str]:
    """Every customer text Rasa's tracker of this conversation holds."""
    response = httpx.get(
        f"{stack.rasa.url}/conversations/{conversation_id}/tracker",
        params={"token": stack.rasa.token},
        timeout=30,
    )
    response.raise_for_status()
    return [
        str(event.get("text"))
        for event in response.json()["events"]
        if event.get("event") == "user"
    ]


def shot(page: Page, name: str) -> None:
    """var/test-artifacts/takeover-<name>.png."""
    screenshot(page, f"takeover-{name}")


# ---- 1. the whole takeover in two pages ---------------------------------------------


def test_customer_and_named_agent_take_over_and_hand_back(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    # 李娜 is at her desk before the customer asks: her queue updates by itself.
    agent = console_login(pages, stack, LI_NA)
    customer = customer_page(pages, stack)

    verify(customer, *ZHANG_WEI)
    bot_says(customer, "P3100000000001")  # his policies, now that he is verified
    send(customer, "我要转人工")
    bot_says(customer, "专属服务人员李娜（工号KN1042）")
    shot(customer, "1-customer-waiting")

    escalation = open_escalation(stack, customer)
    escalation_id = int(escalation["id"])
    conversation_id = int(escalation["conversation_id"])
    assert escalation["trigger"] == "customer_request"
    assert escalation["offered_agent"]["employee_no"] == LI_NA[0]

    # The brief: trigger, reason, verification level, the bot's transcript.
    console_open(agent, escalation_id)
    head = agent.locator("#brief-body .brief-head")
    expect(head).to_contain_text("客户要求人工")
    expect(head).to_contain_text("已验证身份")
    expect(agent.locator("#brief-body")).to_contain_text("客户主动要求转人工")
    expect(agent.locator("#customer-body")).to_contain_text("张伟")
    expect(console_bubble(agent, "customer", "我要转人工")).to_be_visible()
    expect(console_bubble(agent, "bot", "身份核实成功")).to_be_visible()
    shot(agent, "1-console-brief")

    console_accept(agent)
    expect(customer.locator(".msg-system .notice").last).to_have_text(
        "客服李娜（工号KN1042）已接入，为您服务。", timeout=LIVE
    )
    assert stack.conversation_of(session_id(customer))["status"] == "agent"

    # Live both ways, no reload.
    question = "我上个月住院了，理赔需要准备哪些材料？"
    send(customer, question)
    expect(console_bubble(agent, "customer", question)).to_be_visible(timeout=LIVE)
    answer = "您好张先生，我是李娜。请准备住院病历、费用发票和清单，拍照上传即可。"
    agent.fill("#composer-input", answer)
    agent.press("#composer-input", "Enter")
    reply = customer.locator(".msg-agent").last
    expect(reply.locator(".bubble")).to_have_text(answer, timeout=LIVE)
    expect(reply.locator(".name")).to_have_text("李娜（工号 KN1042）")
    send(customer, "好的，谢谢")
    expect(console_bubble(agent, "customer", "好的，谢谢")).to_be_visible(timeout=LIVE)
    shot(customer, "1-customer-chat")
    shot(agent, "1-console-chat")
    # While the agent holds the conversation, Rasa hears nothing of it.
    heard = rasa_heard(stack, conversation_id)
    assert question not in heard and "好的，谢谢" not in heard, heard

    # Resolve: the bot takes over again and asks for a score.
    agent.click("#btn-resolve")
    dialog = agent.locator("#dlg-resolve")
    expect(dialog).to_be_visible()
    dialog.locator(".outcome", has_text="问题已解决").click()
    agent.click("#resolve-submit")
    expect(dialog).to_be_hidden()
    expect(agent.locator("#chat-banner")).to_contain_text("会话已结束", timeout=LIVE)
    handback = customer.locator(".msg-bot .bubble", has_text="由小安继续为您服务")
    fallback = customer.locator(".msg-system .notice", has_text=NOTICE_HANDBACK)
    expect(handback.or_(fallback).last).to_be_visible(timeout=BOT)
    assert fallback.count() == 0, (
        "the gateway could not hand the conversation back to Rasa (the customer got"
        f" its fallback notice instead of the bot):\n{stack.gateway.log()}"
    )
    bot_says(customer, "请您为刚才人工客服的服务打分")
    scores = customer.locator(".msg-bot").last.locator(".quick-replies button")
    expect(scores).to_have_count(5)
    shot(customer, "1-customer-csat")

    scores.filter(has_text="5分").click()
    bot_says(customer, "感谢您的评价")
    stored = stack.wait_for(
        "the score stored with the escalation",
        lambda: (e := stack.escalation(escalation_id))["csat"] == 5 and e,
    )
    assert stored["status"] == "closed" and stored["outcome"] == "resolved", stored

    # The next question is the bot's again.
    send(customer, "犹豫期是多久")
    bot_says(customer, "犹豫期")
    assert stack.conversation_of(session_id(customer))["status"] == "bot"
    assert "犹豫期是多久" in rasa_heard(stack, conversation_id)
    shot(customer, "1-customer-after")
    shot(agent, "1-console-resolved")

    for page in (customer, agent):
        assert page.evaluate("window.__sameDocument") is True
    stack.close(conversation_id)


# ---- 2. VIP complaint → the named account manager -----------------------------------


def test_vip_complaint_goes_to_the_named_account_manager(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    customer = customer_page(pages, stack)
    verify(
        customer,
        *LIN_HUIMIN,
        first="你们的年金一直没按时发放，客服电话也打不通，我要投诉",
    )
    bot_says(customer, "哪张保单")
    customer.locator(".msg-bot").last.locator(
        ".quick-replies button", has_text="P4400000000003"
    ).click()
    bot_says(customer, "您希望我们怎样处理")
    send(customer, "希望尽快发放并给个说法")
    bot_says(customer, re.compile(r"投诉已受理，工单号T\d+"))
    bot_says(customer, "专属服务人员陈思远（工号KN1002）")
    shot(customer, "2-customer-vip-complaint")

    escalation = open_escalation(stack, customer)
    assert escalation["target_agent"]["employee_no"] == CHEN_SIYUAN[0]
    assert escalation["offered_agent"]["employee_no"] == CHEN_SIYUAN[0]
    assert escalation["trigger"] in ("high_value", "angry_complaint"), escalation
    assert escalation["topic"] == "complaints"
    codes = {r["code"] for r in escalation["priority_reasons"]}
    assert "tier_vip" in codes, escalation

    # It is in 陈思远's own queue.
    mine = stack.agent(CHEN_SIYUAN[0]).get("/escalations", params={"scope": "mine"})
    assert mine.status_code == 200, mine.text
    assert escalation["id"] in [item["id"] for item in mine.json()["items"]]
    stack.close(int(escalation["conversation_id"]))


# ---- 3. named agent offline → the team ----------------------------------------------


def test_named_agent_offline_goes_to_the_team(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    with stack.offline(LI_NA[0]):
        customer = customer_page(pages, stack)
        verify(customer, *ZHANG_WEI)
        send(customer, "我要转人工")
        bot_says(customer, f"正在为您转接{GENERAL_DESK}")
        shot(customer, "3-customer-team")

        escalation = open_escalation(stack, customer)
        assert escalation["target_agent"] is None, escalation
        assert escalation["target_team"]["name"] == GENERAL_DESK
        offered = escalation["offered_agent"]
        assert offered and offered["employee_no"] in GENERAL_ONLINE, escalation
        assert "李娜" not in str(escalation["notice"])
        stack.close(int(escalation["conversation_id"]))


# ---- 4. nobody online → call-back ----------------------------------------------------


def test_nobody_online_gets_an_honest_call_back(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    with stack.offline(LI_NA[0], *GENERAL_ONLINE):
        customer = customer_page(pages, stack)
        verify(customer, *ZHANG_WEI)
        before = datetime.now().astimezone()
        send(customer, "我要转人工")
        bot_says(customer, "现在暂时没有人工客服在线，已为您登记回电")
        after = datetime.now().astimezone()

        escalation = open_escalation(stack, customer)
        assert escalation["callback"] is True, escalation
        assert escalation["target_agent"]["employee_no"] == LI_NA[0]
        assert escalation["offered_agent"] is None, escalation
        due = datetime.fromisoformat(str(escalation["callback_due_at"]))
        # The documented rule: two working hours from now (Asia/Shanghai).
        assert routing.callback_due(before) <= due <= routing.callback_due(after)
        when = routing.describe_time(due, now=after)
        promise = f"已为您登记回电：李娜将在{when}前与您联系"
        bot_says(customer, promise)
        shot(customer, "4-customer-callback")

        # The call-back is a task in 李娜's own queue, flagged as such.
        mine = stack.agent(LI_NA[0]).get("/escalations", params={"scope": "mine"})
        assert mine.status_code == 200, mine.text
        row = next(i for i in mine.json()["items"] if i["id"] == escalation["id"])
        assert row["callback"] is True and row["callback_due_at"], row
        console = console_login(pages, stack, LI_NA)
        item = console.locator(f'.qitem[data-id="{escalation["id"]}"]')
        expect(item).to_be_visible(timeout=LIVE)
        expect(item).to_contain_text("待回电")
        shot(console, "4-console-callback")
        stack.close(int(escalation["conversation_id"]))


# ---- 5. accept timeout → the next agent ----------------------------------------------


def test_an_offer_not_accepted_in_time_goes_to_the_next_agent(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    customer = customer_page(pages, stack)
    verify(customer, *ZHANG_WEI)
    send(customer, "我要转人工")
    bot_says(customer, "专属服务人员李娜（工号KN1042）")
    escalation = open_escalation(stack, customer)
    escalation_id = int(escalation["id"])
    assert escalation["offered_agent"]["employee_no"] == LI_NA[0]

    # 李娜 does not accept: after the timeout (plus a sweep) it moves on.
    moved = stack.wait_for(
        "the offer to move on from 李娜",
        lambda: (
            (e := stack.escalation(escalation_id))["offered_agent"]
            and e["offered_agent"]["employee_no"] != LI_NA[0]
            and e
        ),
        timeout=OFFER_TIMEOUT + 15,
    )
    next_agent = moved["offered_agent"]
    assert next_agent["employee_no"] in GENERAL_ONLINE, moved
    assert moved["target_agent"] is None and moved["status"] == "queued", moved
    assert moved["target_team"]["name"] == GENERAL_DESK, moved
    # The customer is told, by the gateway's queue notices.
    expect(
        customer.locator(".msg-system .notice", has_text=f"正在为您转接{GENERAL_DESK}")
    ).to_be_visible(timeout=LIVE)

    # The next agent sees it offered to them and takes it in the console.
    colleague = console_login(
        pages, stack, (next_agent["employee_no"], next_agent["name"])
    )
    console_open(colleague, escalation_id)
    expect(colleague.locator(".qitem.is-selected .qitem-target")).to_have_text("派给我")
    expect(colleague.locator("#brief-body")).to_contain_text("李娜")  # the event log
    shot(colleague, "5-console-next-agent")
    console_accept(colleague)
    expect(customer.locator(".msg-system .notice").last).to_have_text(
        f"客服{next_agent['name']}（工号{next_agent['employee_no']}）已接入，为您服务。",
        timeout=LIVE,
    )
    shot(customer, "5-customer-next-agent")
    final = stack.escalation(escalation_id)
    assert final["assigned_agent"]["employee_no"] == next_agent["employee_no"], final
    stack.close(int(final["conversation_id"]))
