"""Events and non-text messages on the live gateway: subscribe, unsubscribe,
menu clicks, images and the like, and quick replies as tappable links."""

from __future__ import annotations

import time

from tests.bot.wechat.conftest import CrmDb, SlowRasa
from tests.bot.wechat.fake_api import FakeWechat
from tests.bot.wechat.player import (
    WechatServer,
    event_xml,
    message_xml,
    new_msg_id,
    new_openid,
    text_xml,
)


def test_subscribe_is_welcomed_once(wx: WechatServer, crm_db: CrmDb) -> None:
    openid = new_openid()
    xml = event_xml(openid, "subscribe", create_time=int(time.time()))
    answer = wx.post(xml)
    assert answer.text is not None and "欢迎关注安顺人寿" in answer.text
    assert wx.post(xml).body == "success"  # WeChat's retry of the same event
    rows = crm_db.messages(openid)
    assert [(r.sender, r.text) for r in rows] == [
        ("customer", "[客户关注了公众号]"),
        ("bot", answer.text),
    ]
    assert rows[0].external_msg_id.startswith("subscribe-")


def test_unsubscribe_is_recorded_without_a_reply(
    wx: WechatServer, crm_db: CrmDb, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    assert wx.post(event_xml(openid, "unsubscribe")).body == "success"
    assert [r.text for r in crm_db.messages(openid)] == ["[客户取消关注了公众号]"]
    time.sleep(0.3)
    assert fake_wechat.to(openid) == []


def test_a_menu_click_asks_the_bot_by_intent(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa
) -> None:
    openid = new_openid()
    answer = wx.post(event_xml(openid, "CLICK", key="MY_POLICY"))
    assert answer.text == "收到：/ask_policy"
    rows = crm_db.messages(openid)
    assert rows[0].text == "/ask_policy"
    assert rows[0].payload == {"metadata": {"display": "查保单"}}


def test_an_unknown_menu_key_is_answered_politely(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa
) -> None:
    openid = new_openid()
    answer = wx.post(event_xml(openid, "CLICK", key="SOMETHING_NEW"))
    assert answer.text == "请直接发送文字告诉小安您想办理的业务。"
    assert crm_db.messages(openid)[0].text == "[客户点击了菜单：SOMETHING_NEW]"
    assert slow_rasa.turns(crm_db.conversation_id(openid)) == []


def test_a_menu_link_is_not_a_message(wx: WechatServer, crm_db: CrmDb) -> None:
    openid = new_openid()
    answer = wx.post(event_xml(openid, "VIEW", key="https://example.com/"))
    assert answer.body == "success"
    assert crm_db.conversation_id(openid) is None


def test_an_image_is_answered_politely_and_never_reaches_rasa(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa
) -> None:
    openid = new_openid()
    xml = message_xml(
        openid,
        "image",
        PicUrl="http://mmbiz.qpic.cn/abc",
        MediaId="media-1",
        MsgId=new_msg_id(),
    )
    answer = wx.post(xml)
    assert answer.text is not None and "只能看懂文字" in answer.text
    rows = crm_db.messages(openid)
    assert rows[0].text == "[客户发送了一张图片]"
    assert (
        rows[0].payload["metadata"]["wechat"]["pic_url"] == "http://mmbiz.qpic.cn/abc"
    )
    assert slow_rasa.turns(crm_db.conversation_id(openid)) == []


def test_a_location_is_noted_with_its_label(wx: WechatServer, crm_db: CrmDb) -> None:
    openid = new_openid()
    xml = message_xml(
        openid,
        "location",
        Location_X="31.23",
        Location_Y="121.47",
        Scale="15",
        Label="上海市黄浦区人民大道",
        MsgId=new_msg_id(),
    )
    wx.post(xml)
    assert (
        crm_db.messages(openid)[0].text == "[客户发送了一个位置：上海市黄浦区人民大道]"
    )


def test_recognised_voice_is_a_text_message(
    wx: WechatServer, slow_rasa: SlowRasa
) -> None:
    openid = new_openid()
    xml = message_xml(
        openid,
        "voice",
        MediaId="m",
        Format="amr",
        Recognition="我要转人工",
        MsgId=new_msg_id(),
    )
    assert wx.post(xml).text == "收到：我要转人工"


def test_buttons_become_links_and_a_tap_sends_the_payload(
    wx: WechatServer, crm_db: CrmDb
) -> None:
    openid = new_openid()
    shown = wx.post(text_xml(openid, "#buttons")).text
    assert shown == (
        "请问您想办理哪项业务？\n"
        '<a href="weixin://bizmsgmenu?msgmenucontent=查询保单&msgmenuid=1">查询保单</a>\n'
        '<a href="weixin://bizmsgmenu?msgmenucontent=转人工&msgmenuid=2">转人工</a>'
    )
    tapped = wx.post(text_xml(openid, "查询保单", bizmsgmenuid="1"))
    assert tapped.text == "收到：/ask_policy"
    typed = wx.post(text_xml(openid, "转人工"))
    assert typed.text == "收到：/request_human"
    customer = [r for r in crm_db.messages(openid) if r.sender == "customer"]
    assert [r.text for r in customer][1:] == ["/ask_policy", "/request_human"]
    assert customer[1].payload == {"metadata": {"display": "查询保单"}}


def test_an_empty_text_is_answered_without_a_turn(
    wx: WechatServer, crm_db: CrmDb
) -> None:
    openid = new_openid()
    assert wx.post(text_xml(openid, "   ")).text == "请输入消息内容后再发送。"
    assert crm_db.conversation_id(openid) is None
