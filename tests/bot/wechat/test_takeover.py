"""A WeChat customer and a named agent: the agent's messages go out through the
customer-service API; the 48-hour window is respected (refused sends and
WeChat's 45015 become a call-back task); the access token is refreshed once;
a bound openid starts verified."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.bot.wechat.conftest import CSAT_TEXT, CrmDb, SlowRasa
from tests.bot.wechat.fake_api import FakeWechat
from tests.bot.wechat.player import (
    WechatServer,
    message_xml,
    new_msg_id,
    new_openid,
    text_xml,
)

AGENT_PREFIX = "曹丽华（工号KN1031）：\n"


def with_agent(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> tuple[str, int, dict[str, Any]]:
    """A new WeChat customer whose conversation the supervisor accepted."""
    openid = new_openid()
    assert wx.post(text_xml(openid, "我要找人工")).text == "收到：我要找人工"
    conversation_id = crm_db.conversation_id(openid)
    escalated = service.post(
        "/escalations",
        json={
            "conversation_id": conversation_id,
            "trigger": "customer_request",
            "reason": "客户要求人工",
        },
    )
    assert escalated.status_code == 201, escalated.text
    escalation = escalated.json()
    accepted = supervisor.post(f"/escalations/{escalation['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    # (a queue notice may come first: the page's poller saw the change)
    fake_wechat.wait_text(openid, "客服曹丽华")
    return openid, conversation_id, escalation


def brief(supervisor: httpx.Client, escalation_id: int) -> dict[str, Any]:
    """The hand-off brief as the console reads it."""
    response = supervisor.get(f"/escalations/{escalation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_agent_chats_through_the_api_and_hands_back(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
    slow_rasa: SlowRasa,
) -> None:
    openid, conversation_id, escalation = with_agent(
        wx, crm_db, service, supervisor, fake_wechat
    )
    sent = supervisor.post(
        f"/conversations/{conversation_id}/messages",
        json={"text": "您好，请问有什么可以帮您？"},
    )
    assert sent.status_code == 201, sent.text
    greeting = AGENT_PREFIX + "您好，请问有什么可以帮您？"
    assert fake_wechat.wait_text(openid, greeting) == greeting

    turns = len(slow_rasa.turns(conversation_id))
    assert wx.post(text_xml(openid, "我想改受益人")).body == "success"
    picture = message_xml(
        openid,
        "image",
        PicUrl="http://mmbiz.qpic.cn/x",
        MediaId="m",
        MsgId=new_msg_id(),
    )
    assert wx.post(picture).body == "success"
    assert len(slow_rasa.turns(conversation_id)) == turns  # never to Rasa
    customer = [r.text for r in crm_db.messages(openid) if r.sender == "customer"]
    assert customer[-2:] == ["我想改受益人", "[客户发送了一张图片]"]

    resolved = supervisor.post(
        f"/escalations/{escalation['id']}/resolve", json={"outcome": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    csat = fake_wechat.wait_text(openid, CSAT_TEXT)
    assert csat.startswith(CSAT_TEXT)
    assert "msgmenucontent=5分&msgmenuid=1" in csat
    assert wx.post(text_xml(openid, "5分", bizmsgmenuid="1")).text == "收到：5"


def test_a_closed_window_refuses_the_agent_and_creates_a_call_back(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> None:
    openid, conversation_id, escalation = with_agent(
        wx, crm_db, service, supervisor, fake_wechat
    )
    crm_db.execute(
        "UPDATE conversations SET last_customer_message_at = :at WHERE id = :id",
        at=datetime.now(UTC) - timedelta(hours=48, minutes=1),
        id=conversation_id,
    )
    refused = supervisor.post(
        f"/conversations/{conversation_id}/messages", json={"text": "您还在吗？"}
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "wechat_window_closed"
    assert error["notice"] == "客户已超过48小时未发消息，无法通过微信触达"
    assert error["callback_due_at"]

    shown = brief(supervisor, escalation["id"])
    assert shown["callback"] is True and shown["callback_due_at"]
    assert any(e["kind"] == "callback" for e in shown["events"])
    notes = [r.text for r in crm_db.messages(openid) if r.private]
    assert "您还在吗？" in notes[-1] and "48小时" in notes[-1]
    assert all(r.text != "您还在吗？" for r in crm_db.messages(openid) if not r.private)
    time.sleep(0.3)
    assert all("您还在吗" not in text for text in fake_wechat.to(openid))

    # The customer writes again: the window opens, the agent may answer.
    assert wx.post(text_xml(openid, "我在")).body == "success"
    again = supervisor.post(
        f"/conversations/{conversation_id}/messages", json={"text": "好的"}
    )
    assert again.status_code == 201, again.text
    assert fake_wechat.wait_text(openid, AGENT_PREFIX + "好的") == AGENT_PREFIX + "好的"


def test_wechat_answering_45015_creates_the_call_back_too(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> None:
    openid, conversation_id, escalation = with_agent(
        wx, crm_db, service, supervisor, fake_wechat
    )
    fake_wechat.window_closed.add(openid)
    try:
        sent = supervisor.post(
            f"/conversations/{conversation_id}/messages", json={"text": "请确认"}
        )
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 10
        while not brief(supervisor, escalation["id"])["callback"]:
            assert time.monotonic() < deadline, "no call-back after 45015"
            time.sleep(0.2)
    finally:
        fake_wechat.window_closed.discard(openid)
    assert (openid, 45015) in fake_wechat.refused
    notes = [r.text for r in crm_db.messages(openid) if r.private]
    assert "45015" in notes[-1]
    message = crm_db.rows(
        "SELECT payload FROM messages WHERE id = :id", id=sent.json()["id"]
    )[0]
    assert message.payload["wechat_undelivered"] == 45015


def test_an_expired_token_is_refreshed_once_and_busy_is_retried(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> None:
    openid, conversation_id, _ = with_agent(
        wx, crm_db, service, supervisor, fake_wechat
    )
    fetches = fake_wechat.token_fetches
    fake_wechat.expire_tokens()
    fake_wechat.busy = 2
    for text in ("第一条", "第二条", "第三条"):
        sent = supervisor.post(
            f"/conversations/{conversation_id}/messages", json={"text": text}
        )
        assert sent.status_code == 201, sent.text
    fake_wechat.wait_text(openid, "第三条")
    texts = [t for t in fake_wechat.to(openid) if t.startswith(AGENT_PREFIX)]
    assert [t.removeprefix(AGENT_PREFIX) for t in texts] == [
        "第一条",
        "第二条",
        "第三条",
    ]
    assert fake_wechat.token_fetches == fetches + 1
    assert fake_wechat.busy == 0


@pytest.fixture
def bound_customer(crm_db: CrmDb) -> tuple[str, int]:
    """A demo customer bound to a new openid (as verifying on WeChat does)."""
    openid = new_openid()
    customer_id = crm_db.scalar(
        "SELECT id FROM customers WHERE wechat_openid IS NULL ORDER BY id LIMIT 1"
    )
    crm_db.execute(
        "UPDATE customers SET wechat_openid = :o, wechat_bound_at = :at WHERE id = :c",
        o=openid,
        at=datetime.now(UTC),
        c=customer_id,
    )
    return openid, customer_id


def test_a_bound_openid_starts_verified(
    wx: WechatServer,
    crm_db: CrmDb,
    slow_rasa: SlowRasa,
    bound_customer: tuple[str, int],
) -> None:
    openid, customer_id = bound_customer
    assert wx.post(text_xml(openid, "查保单")).text == "收到：查保单"
    turn = slow_rasa.turns(crm_db.conversation_id(openid))[0]["body"]
    assert turn["metadata"]["verified"] is True
    assert turn["metadata"]["customer_id"] == customer_id
