"""Ticket notices to a WeChat customer: sent through the customer-service API
inside the 48-hour window and marked delivered; WeChat's 45015 leaves them
pending; a closed window is not even tried."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.bot.wechat.conftest import CrmDb
from tests.bot.wechat.fake_api import FakeWechat
from tests.bot.wechat.player import WechatServer, new_openid, text_xml


def _customer_on_wechat(wx: WechatServer, crm_db: CrmDb) -> tuple[str, int, int]:
    """A new WeChat user who wrote once, as a verified customer with no other
    chats: (openid, conversation id, customer id)."""
    openid = new_openid()
    assert wx.post(text_xml(openid, "你好")).text == "收到：你好"
    conversation_id = crm_db.conversation_id(openid)
    assert conversation_id is not None
    customer_id = crm_db.scalar(
        "SELECT max(c.id) FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM conversations v WHERE v.customer_id = c.id)"
    )
    crm_db.execute(
        "UPDATE conversations SET customer_id = :c WHERE id = :id",
        c=customer_id,
        id=conversation_id,
    )
    return openid, conversation_id, int(customer_id)


def _ticket(service: httpx.Client, customer_id: int, conversation_id: int) -> str:
    opened = service.post(
        "/tickets",
        json={
            "customer_id": customer_id,
            "category": "claim_dispute",
            "description": "理赔款一直没有到账",
            "conversation_id": conversation_id,
            "channel": "wechat",
        },
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["ticket_no"])


def _verb(
    supervisor: httpx.Client, crm_db: CrmDb, ticket_no: str, verb: str, **body: Any
) -> None:
    ticket_id = crm_db.scalar(
        "SELECT id FROM tickets WHERE ticket_no = :n", n=ticket_no
    )
    done = supervisor.post(f"/tickets/{ticket_id}/{verb}", json=body or None)
    assert done.status_code == 200, done.text


def _notice(crm_db: CrmDb, customer_id: int) -> Any:
    return crm_db.rows(
        "SELECT id, text, channel, delivered_at, attempted_at FROM ticket_notices "
        "WHERE customer_id = :c ORDER BY id DESC LIMIT 1",
        c=customer_id,
    )[0]


def _until(check: Any, what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return found


def test_a_notice_goes_out_inside_the_window_and_waits_after_45015(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> None:
    openid, conversation_id, customer_id = _customer_on_wechat(wx, crm_db)
    ticket_no = _ticket(service, customer_id, conversation_id)

    _verb(supervisor, crm_db, ticket_no, "acknowledge")
    sent = fake_wechat.wait_text(openid, f"您的投诉 {ticket_no} 已于", timeout=5)
    assert "确认受理，专人正在跟进。" in sent
    notice = _until(
        lambda: (n := _notice(crm_db, customer_id)).delivered_at and n,
        "the notice was never marked delivered",
    )
    assert notice.channel == "wechat" and notice.text == sent
    recorded = [m for m in crm_db.messages(openid) if m.sender == "system"]
    assert [m.text for m in recorded] == [sent]
    assert recorded[0].payload["ticket_no"] == ticket_no

    # the window closed on WeChat's side: 45015, the notice stays pending
    fake_wechat.window_closed.add(openid)
    try:
        _verb(
            supervisor,
            crm_db,
            ticket_no,
            "request-info",
            text="请提供医院出具的费用清单",
        )
        _until(
            lambda: (openid, 45015) in fake_wechat.refused,
            "WeChat was never asked",
        )
        pending = _until(
            lambda: (n := _notice(crm_db, customer_id)).attempted_at and n,
            "the notice was never tried",
        )
        assert pending.delivered_at is None
        assert "费用清单" in pending.text
    finally:
        fake_wechat.window_closed.discard(openid)
    assert all("费用清单" not in m.text for m in crm_db.messages(openid))

    # the customer writes again: the next pass delivers it
    assert wx.post(text_xml(openid, "我在")).text == "收到：我在"
    assert "费用清单" in fake_wechat.wait_text(openid, "需要您补充信息")
    _until(
        lambda: _notice(crm_db, customer_id).delivered_at,
        "the late notice was never marked delivered",
    )


def test_a_closed_window_is_not_tried(
    wx: WechatServer,
    crm_db: CrmDb,
    service: httpx.Client,
    supervisor: httpx.Client,
    fake_wechat: FakeWechat,
) -> None:
    openid, conversation_id, customer_id = _customer_on_wechat(wx, crm_db)
    ticket_no = _ticket(service, customer_id, conversation_id)
    crm_db.execute(
        "UPDATE conversations SET last_customer_message_at = :at WHERE id = :id",
        at=datetime.now(UTC) - timedelta(hours=48, minutes=1),
        id=conversation_id,
    )
    _verb(supervisor, crm_db, ticket_no, "acknowledge")
    # another customer's notice, left later, is delivered: a pass ran after ours
    # was left, and left ours alone
    other, other_conversation, other_customer = _customer_on_wechat(wx, crm_db)
    other_ticket = _ticket(service, other_customer, other_conversation)
    _verb(supervisor, crm_db, other_ticket, "acknowledge")
    fake_wechat.wait_text(other, f"您的投诉 {other_ticket} 已于", timeout=5)
    notice = _notice(crm_db, customer_id)
    assert notice.attempted_at is None and notice.delivered_at is None
    assert all(ticket_no not in text for text in fake_wechat.to(openid))
