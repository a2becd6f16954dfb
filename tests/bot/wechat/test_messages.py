"""The pure wire format (bot/channels/wechat/messages.py and outgoing.py)."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot.channels.wechat import messages as wm
from bot.channels.wechat import outgoing as out
from bot.crm_client import AgentRef
from bot.messages import Button, Outgoing
from tests.bot.wechat.player import (
    AES_KEY,
    APP_ID,
    TOKEN,
    event_xml,
    message_xml,
    sign,
    text_xml,
)

NOW = 1_760_000_000


def test_signatures_match_wechatpy() -> None:
    signature = wm.signature_of(TOKEN, str(NOW), "nonce1")
    check_signature(TOKEN, signature, str(NOW), "nonce1")
    wm.check_callback(
        TOKEN,
        signature=signature,
        timestamp=str(NOW),
        nonce="nonce1",
        now=NOW + 299,
        max_skew=300,
    )
    with pytest.raises(InvalidSignatureException):
        check_signature(TOKEN, signature, str(NOW), "nonce2")


@pytest.mark.parametrize(
    ("signature", "timestamp", "now", "reason"),
    [
        ("0" * 40, str(NOW), NOW, "bad signature"),
        (None, str(NOW - 301), NOW, "stale timestamp"),
        (None, str(NOW + 301), NOW, "stale timestamp"),
        (None, "soon", NOW, "bad timestamp"),
        ("", str(NOW), NOW, "signature missing"),
    ],
)
def test_forged_and_stale_callbacks_are_refused(
    signature: str | None, timestamp: str, now: int, reason: str
) -> None:
    if signature is None:
        signature = sign(TOKEN, timestamp, "n")
    with pytest.raises(wm.Refused) as refused:
        wm.check_callback(
            TOKEN,
            signature=signature,
            timestamp=timestamp,
            nonce="n",
            now=now,
            max_skew=300,
        )
    assert (refused.value.status_code, refused.value.reason) == (403, reason)


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/hostname">]><xml>&e;</xml>',
        b'<!DOCTYPE xml [<!ENTITY e "x">]><xml><a>&e;</a></xml>',
        b"<!DOCTYPE xml><xml></xml>",
        b"<xml><a>unclosed</xml>",
        b"<html></html>",
    ],
)
def test_dtds_entities_and_garbage_are_refused(body: bytes) -> None:
    with pytest.raises(wm.Refused) as refused:
        wm.parse_xml(body)
    assert refused.value.status_code == 400


def test_safe_mode_round_trip_and_forgery() -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    xml = text_xml("oUser", "加密的消息", "1")
    envelope = wm.parse_xml(crypto.encrypt_message(xml, "n", str(NOW)))
    plain = wm.decrypt(
        crypto,
        envelope,
        msg_signature=envelope["MsgSignature"],
        timestamp=str(NOW),
        nonce="n",
    )
    assert wm.parse_xml(plain)["Content"] == "加密的消息"
    with pytest.raises(wm.Refused) as forged:
        wm.decrypt(
            crypto, envelope, msg_signature="0" * 40, timestamp=str(NOW), nonce="n"
        )
    assert forged.value.status_code == 403
    other = WeChatCrypto(TOKEN, AES_KEY, "wx-another-app")
    with pytest.raises(wm.Refused) as foreign:
        wm.decrypt(
            other,
            envelope,
            msg_signature=envelope["MsgSignature"],
            timestamp=str(NOW),
            nonce="n",
        )
    assert foreign.value.status_code == 403


def classify(xml: str) -> wm.Inbound:
    return wm.classify(xml, wm.parse_xml(xml.encode()))


def test_classification() -> None:
    text = classify(text_xml("oA", "你好", "123", bizmsgmenuid="2"))
    assert (text.kind, text.text, text.msg_key, text.menu_id) == (
        "text",
        "你好",
        "123",
        "2",
    )
    image = classify(message_xml("oA", "image", PicUrl="http://p", MsgId="9"))
    assert (image.kind, image.text, image.reply) == (
        "note",
        "[客户发送了一张图片]",
        wm.NOT_TEXT,
    )
    link = classify(
        message_xml("oA", "link", Title="理赔指南", Url="http://u", MsgId="8")
    )
    assert link.text == "[客户发送了一个链接：理赔指南 http://u]"
    click = classify(event_xml("oA", "CLICK", key="MY_POLICY", create_time=NOW))
    assert (click.kind, click.text, click.display) == ("menu", "/ask_policy", "查保单")
    assert click.msg_key == f"click-{NOW}"
    subscribe = classify(event_xml("oA", "subscribe", create_time=NOW))
    assert (subscribe.kind, subscribe.reply) == ("note", wm.WELCOME)
    scanned = classify(event_xml("oA", "subscribe", key="qrscene_7", create_time=NOW))
    assert scanned.reply == wm.WELCOME
    assert classify(event_xml("oA", "unsubscribe")).reply is None
    assert classify(event_xml("oA", "VIEW", key="http://x")).kind == "ignore"
    assert classify(event_xml("oA", "LOCATION")).kind == "ignore"
    odd = classify(message_xml("oA", "hologram", MsgId="7"))
    assert odd.text == "[客户发送了一条暂不支持的消息]"


def test_rendering_for_wechat() -> None:
    agent = AgentRef(id=3, name="王芳", employee_no="KN1003")
    assert out.render(Outgoing(text="您好", sender="agent", agent=agent)) == (
        "王芳（工号KN1003）：\n您好"
    )
    buttons = (Button("是<的>", "/affirm"), Button('不"是"', "/deny"))
    assert out.render(Outgoing(text="确认吗？", sender="bot", buttons=buttons)) == (
        "确认吗？\n"
        '<a href="weixin://bizmsgmenu?msgmenucontent=是的&msgmenuid=1">是的</a>\n'
        '<a href="weixin://bizmsgmenu?msgmenucontent=不是&msgmenuid=2">不是</a>'
    )


def test_splitting_and_packing_respect_the_byte_limit() -> None:
    long = "一二三四五\n" * 500  # 8,000 bytes
    pieces = out.split(long, 2000)
    assert all(out.size(p) <= 2000 for p in pieces)
    assert "".join(p + "\n" for p in pieces) == long
    one_line = "长" * 1000  # 3,000 bytes, no line break
    assert out.split(one_line, 2000) == ["长" * 666, "长" * 334]  # full pieces
    assert out.split("a长" * 3, 4) == ["a长", "a长", "a长"]  # never half a character
    short = [Outgoing(text="一", sender="bot"), Outgoing(text="二", sender="bot")]
    assert out.pack(short) == ("一\n\n二", [])
    mixed = [Outgoing(text="一", sender="bot"), Outgoing(text=long, sender="bot")]
    assert out.pack(mixed) == ("一", [1])
    first_too_long = [Outgoing(text=long, sender="bot")]
    passive, rest = out.pack(first_too_long)
    assert out.size(passive) <= 2000 and rest == []


def test_passive_replies_survive_cdata_breakers() -> None:
    xml = wm.reply_xml(openid="oA", account="gh", text="a]]>b\x01c", now=NOW)
    assert wm.parse_xml(xml.encode())["Content"] == "a]]>bc"


def test_outgoing_messages_round_trip_through_json() -> None:
    agent = AgentRef(id=3, name="王芳", employee_no="KN1003")
    original = [
        Outgoing(text="您好", sender="agent", agent=agent, message_id=5),
        Outgoing(text="选吧", sender="bot", buttons=(Button("是", "/affirm"),)),
    ]
    assert out.load(out.dump(original)) == original


def test_openids_are_masked_for_logs() -> None:
    assert wm.mask_openid("oWx1234567890abcdefghijklmnop") == "oWx1****op"
    logged = "/wechat?signature=ab&openid=oWx1234567890abcdefghijklmnop&nonce=1"
    assert wm.mask_query(logged) == "/wechat?signature=ab&openid=oWx1****op&nonce=1"
