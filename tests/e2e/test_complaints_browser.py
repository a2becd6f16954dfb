"""A complaint's whole life, in real Chromium, through the whole real stack (issue 6).

张伟 complains in the web chat (real gateway, Rasa, action server, CRM on
PostgreSQL when reachable); the ticket appears in the complaints workbench
(/console/tickets) with its countdowns; 唐慧 of the complaints desk acknowledges and
resolves it with a refund through the buttons; each step reaches 张伟's open chat as
a notice without a reload; then the bot's follow-up ("我的投诉处理得怎么样了")
reports the resolution from the same ticket. Screenshots:
var/test-artifacts/complaint-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.bot.test_chat_page import send
from tests.browser import screenshot
from tests.e2e.stack import Stack, running_stack
from tests.e2e.test_takeover_browser import (
    BOT,
    LIVE,
    ZHANG_WEI,
    bot_says,
    console_login,
    conversation,
    customer_page,
    verify,
)
from tests.rasa_fixtures import rasa_model

__all__ = ["rasa_model"]  # fixtures used here

pytestmark = pytest.mark.rasa

COMPLAINTS_AGENT = ("KN1022", "唐慧")  # 投诉处理组
TICKET = re.compile(r"T\d{12,14}")
# a calm complaint from an ordinary customer: a ticket, no escalation
COMPLAINT = "我想反映一下，上个月的保费好像被重复扣了两次，麻烦核实一下"
OUTCOME = "经核实为重复扣费，已为您办理退款，3个工作日内原路退回。"


@pytest.fixture(scope="module")
def stack(
    rasa_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """CRM + action server + Rasa + gateway, wired to each other."""
    with running_stack(
        tmp_path_factory.mktemp("complaint-stack"), model=rasa_model, offer_timeout=60
    ) as started:
        yield started


def complain(page: Page) -> str:
    """Go through the complaint form until the bot tells the ticket number."""
    send(page, COMPLAINT)
    bubbles = page.locator(".msg-bot .bubble")
    answers = iter(["扣费/缴费", COMPLAINT, "不涉及", "希望退还多扣的保费"])
    for _ in range(6):
        told = bubbles.filter(has_text=TICKET)
        try:
            expect(told).not_to_have_count(0, timeout=BOT)
            break
        except AssertionError:
            send(page, next(answers))
    match = TICKET.search(bubbles.filter(has_text=TICKET).last.inner_text())
    assert match, "no ticket number told"
    return match.group(0)


def test_complaint_from_chat_to_resolution_and_follow_up(
    pages: Callable[[str], Page], stack: Stack
) -> None:
    customer = customer_page(pages, stack)
    verify(customer, *ZHANG_WEI)
    ticket_no = complain(customer)
    bot_says(customer, "前与您联系确认")
    # a calm complaint of an ordinary customer stays with the bot
    assert conversation(stack, customer)["status"] == "bot"
    screenshot(customer, "complaint-chat-filed")

    # the workbench lists it with both countdowns running
    agent = console_login(pages, stack, COMPLAINTS_AGENT)
    agent.goto(f"{stack.crm.url}/console/tickets")
    row = agent.locator(f'#tk-body tr[data-ticket-no="{ticket_no}"]')
    expect(row).to_be_visible(timeout=LIVE)
    expect(row.locator(".tk-due-ack .cd")).to_contain_text("剩")
    expect(row.locator(".tk-due-resolve .cd")).to_contain_text("剩")
    expect(row).to_contain_text("张伟")
    expect(row).to_contain_text("138****8001")
    row.click()
    detail = agent.locator("#tk-detail")
    expect(detail.locator("#tk-title-no")).to_have_text(ticket_no)
    expect(detail.locator(".tk-desc")).to_contain_text("重复扣了两次")
    screenshot(agent, "complaint-workbench")

    # acknowledge → the customer's open chat hears it
    detail.locator('[data-verb="acknowledge"]').click()
    expect(detail.locator(".tk-title .chip-s")).to_have_text("已受理")
    acknowledged = customer.locator(".msg-system .notice", has_text="确认受理")
    expect(acknowledged).to_contain_text(f"您的投诉 {ticket_no} 已于", timeout=LIVE)

    # resolve with a refund → the customer hears the outcome and the remedy
    detail.locator('[data-verb="resolve"]').click()
    dialog = agent.locator("#dlg-tk-resolve")
    agent.fill("#tk-resolve-outcome", OUTCOME)
    dialog.locator("label.outcome", has_text="退款").click()
    agent.fill("#tk-refund-yuan", "128.50")
    agent.locator("#tk-resolve-submit").click()
    expect(dialog).to_be_hidden()
    expect(detail.locator(".tk-title .chip-s")).to_have_text("已解决")
    resolved = customer.locator(".msg-system .notice", has_text="处理完毕")
    expect(resolved).to_contain_text(OUTCOME, timeout=LIVE)
    expect(resolved).to_contain_text("退款 ¥128.50")
    screenshot(customer, "complaint-chat-resolved")

    # both notices are in the transcript of record, each once
    texts = [m["text"] for m in stack.transcript(conversation(stack, customer)["id"])]
    assert sum("确认受理" in t for t in texts) == 1, texts
    assert sum("处理完毕" in t for t in texts) == 1, texts

    # the bot's follow-up answers from the same ticket
    send(customer, "我的投诉处理得怎么样了")
    follow_up = customer.locator(".msg-bot .bubble", has_text=ticket_no).last
    expect(follow_up).to_contain_text("退款 ¥128.50", timeout=BOT)
    screenshot(customer, "complaint-chat-follow-up")
