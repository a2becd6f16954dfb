"""The customer's chat page and widget in real Chromium (Debian's, via Playwright).

Screenshots go to var/test-artifacts/ (chat-*.png): look at them, Chinese must
render and the layout must look like an insurer's service chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bot.conftest import Gateway, RasaStandIn, start_gateway
from tests.browser import new_context, screenshot
from tests.live_crm import LiveCrm
from tests.ports import free_port

AGENT = {"id": 3, "name": "王芳", "employee_no": "KN1003"}
ATTACK = "<img src=x onerror=alert(1)>"


def open_chat(page: Page, gateway: Gateway) -> None:
    """Load /chat and wait until the socket is connected."""
    page.goto(f"{gateway.url}/chat")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def send(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    page.fill("#input", text)
    page.press("#input", "Enter")


def session_id(page: Page) -> str:
    """The chat session id the page keeps in localStorage."""
    return str(page.evaluate("localStorage.getItem('anshun.chat.session')"))


def push(gateway: Gateway, page: Page, sender: str, text: str, message_id: int) -> None:
    """Deliver an agent or system message as the CRM does."""
    event = {
        "type": "message",
        "conversation_id": 1,
        "channel": "web",
        "external_id": session_id(page),
        "message": {
            "id": message_id,
            "sender": sender,
            "text": text,
            "created_at": "2026-01-01T08:00:00Z",
            **({"agent": AGENT} if sender == "agent" else {}),
        },
    }
    response = httpx.post(
        f"{gateway.url}/internal/events",
        json=event,
        headers={"Authorization": f"Bearer {gateway.token}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text


def test_the_page_loads_in_chinese_and_connects(page: Page, gateway: Gateway) -> None:
    open_chat(page, gateway)
    expect(page).to_have_title("安顺人寿 在线客服")
    expect(page.locator("h1")).to_have_text("安顺人寿 在线客服")
    expect(page.locator("#conn-text")).to_contain_text("小安在线")
    expect(page.locator("#welcome")).to_contain_text("智能客服小安")
    screenshot(page, "chat-empty")


def test_a_message_and_its_reply_show(page: Page, gateway: Gateway) -> None:
    open_chat(page, gateway)
    send(page, "你好")
    expect(page.locator(".msg-customer .bubble")).to_have_text(["你好"])
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：你好")
    expect(page.locator(".msg-bot .name").last).to_have_text("小安")
    expect(page.locator("#welcome")).to_be_hidden()


def test_quick_replies_are_clickable(
    page: Page, gateway: Gateway, rasa_stand_in: RasaStandIn
) -> None:
    open_chat(page, gateway)
    send(page, "#buttons")
    choice = page.locator(".quick-replies button", has_text="查询保单")
    expect(choice).to_be_enabled()
    choice.click()
    expect(page.locator(".msg-customer .bubble").last).to_have_text("查询保单")
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：/ask_policy")
    expect(choice).to_be_disabled()
    turns = rasa_stand_in.got("/webhooks/rest/webhook")
    assert any(t["body"]["message"] == "/ask_policy" for t in turns)
    screenshot(page, "chat-quick-replies")


def test_html_in_chat_text_shows_literally(page: Page, gateway: Gateway) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page, gateway)
    send(page, ATTACK)
    expect(page.locator(".msg-customer .bubble").last).to_have_text(ATTACK)
    expect(page.locator(".msg-bot .bubble").last).to_have_text(f"收到：{ATTACK}")
    push(gateway, page, "agent", "<script>alert(2)</script>" + ATTACK, 880001)
    expect(page.locator(".msg-agent .bubble").last).to_contain_text(ATTACK)
    page.wait_for_timeout(300)
    assert page.locator("#message-list img, #message-list script").count() == 0
    assert dialogs == []
    screenshot(page, "chat-xss-literal")


def test_agent_and_system_messages_are_told_apart(page: Page, gateway: Gateway) -> None:
    open_chat(page, gateway)
    send(page, "转人工")
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：转人工")
    push(gateway, page, "system", "客服王芳（工号KN1003）已接入，为您服务", 880101)
    push(gateway, page, "agent", "您好，我是王芳，请问有什么可以帮您？", 880102)
    expect(page.locator(".msg-system .notice").last).to_have_text(
        "客服王芳（工号KN1003）已接入，为您服务"
    )
    agent = page.locator(".msg-agent").last
    expect(agent.locator(".name")).to_have_text("王芳（工号 KN1003）")
    expect(agent.locator(".badge")).to_have_text("人工客服")
    expect(agent.locator(".avatar")).to_have_text("王")
    screenshot(page, "chat-agent")


def test_typing_indicator_shows_while_a_turn_runs(page: Page, gateway: Gateway) -> None:
    open_chat(page, gateway)
    send(page, "#slow-ok")
    expect(page.locator("#typing")).to_be_visible()
    expect(page.locator(".msg-bot .bubble").last).to_have_text("慢一点的回答")
    expect(page.locator("#typing")).to_be_hidden()


def test_history_shows_after_a_reload(page: Page, gateway: Gateway) -> None:
    open_chat(page, gateway)
    send(page, "第一句")
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：第一句")
    send(page, "#buttons")
    expect(page.locator(".quick-replies button")).to_have_count(2)
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    expect(page.locator(".msg-customer .bubble")).to_have_text(["第一句", "#buttons"])
    expect(page.locator(".msg-bot .bubble")).to_have_text(
        ["收到：第一句", "请问您想办理哪项业务？"]
    )
    expect(page.locator(".quick-replies button").first).to_be_enabled()
    screenshot(page, "chat-history")


def test_mobile_width(browser: Browser, gateway: Gateway) -> None:
    context = new_context(
        browser,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        open_chat(page, gateway)
        send(page, "我想了解一下重疾险的等待期和宽限期分别是多长时间，谢谢" * 2)
        expect(page.locator(".msg-bot .bubble")).to_have_count(1)
        send(page, "#buttons")
        expect(page.locator(".quick-replies button")).to_have_count(2)
        push(gateway, page, "agent", "您好，我是王芳，请问有什么可以帮您？", 880201)
        expect(page.locator(".msg-agent")).to_have_count(1)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        box = page.locator("#send").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 375
        screenshot(page, "chat-mobile-375")
    finally:
        context.close()


def test_the_widget_opens_the_chat_on_a_host_page(page: Page, gateway: Gateway) -> None:
    page.goto(f"{gateway.url}/widget-demo")
    launcher = page.locator(".anshun-chat-launcher")
    expect(launcher).to_have_text("在线客服")
    launcher.click()
    frame = page.frame_locator(".anshun-chat-panel iframe")
    expect(frame.locator("h1")).to_have_text("安顺人寿 在线客服")
    expect(frame.locator("#conn")).to_have_attribute("data-state", "online")
    frame.locator("#input").fill("你好")
    frame.locator("#input").press("Enter")
    expect(frame.locator(".msg-bot .bubble").last).to_have_text("收到：你好")
    screenshot(page, "chat-widget")
    frame.locator("#close-chat").click()
    expect(page.locator(".anshun-chat-panel")).to_be_hidden()


class Restartable:
    """A gateway of its own on a fixed port, so a test can stop and restart it."""

    def __init__(self, workdir: Path, crm: LiveCrm, rasa: RasaStandIn):
        """Start it."""
        self._start = lambda port: start_gateway(
            workdir,
            crm_url=crm.url,
            token=crm.token,
            rasa_url=rasa.url,
            rasa_token=rasa.token,
            port=port,
        )
        self.gateway = self._start(free_port())

    def restart(self) -> None:
        """Start again on the same port (after ``gateway.stop()``)."""
        self.gateway = self._start(int(self.gateway.url.rsplit(":", 1)[1]))


@pytest.fixture
def restartable(
    tmp_path: Path, crm: LiveCrm, rasa_stand_in: RasaStandIn
) -> Iterator[Restartable]:
    """A gateway the test may stop and start."""
    own = Restartable(tmp_path, crm, rasa_stand_in)
    try:
        yield own
    finally:
        own.gateway.stop()


def test_the_page_shows_the_connection_and_reconnects(
    page: Page, restartable: Restartable
) -> None:
    gateway = restartable.gateway
    open_chat(page, gateway)
    send(page, "断线前")
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：断线前")
    gateway.stop()
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    expect(page.locator("#conn-text")).to_contain_text("连接")
    screenshot(page, "chat-offline")
    restartable.restart()
    expect(page.locator("#conn")).to_have_attribute(
        "data-state", "online", timeout=20_000
    )
    send(page, "断线后")
    expect(page.locator(".msg-bot .bubble").last).to_have_text("收到：断线后")
    expect(page.locator(".msg-customer .bubble")).to_have_text(["断线前", "断线后"])
