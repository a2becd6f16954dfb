"""``/wechat`` against the running gateway and CRM: URL verification, plain,
compatible and safe mode, and every refusal (forged or stale signatures, XXE,
oversized bodies) leaving nothing behind."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.bot.process import Gateway
from tests.bot.wechat.conftest import CrmDb, SlowRasa
from tests.bot.wechat.player import (
    ACCOUNT,
    TOKEN,
    WechatServer,
    new_msg_id,
    new_openid,
    sign,
    text_xml,
)

XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName><![CDATA[gh]]></ToUserName>"
    "<FromUserName><![CDATA[{openid}]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<xml><FromUserName><![CDATA[{openid}]]></FromUserName>"
    "<MsgType><![CDATA[text]]></MsgType><Content>&c;</Content></xml>"
)


def test_url_verification_echoes_echostr(wx: WechatServer) -> None:
    params = {**wx.params(), "echostr": "8732461924871"}
    response = httpx.get(wx.url, params=params, timeout=10)
    assert response.status_code == 200 and response.text == "8732461924871"


@pytest.mark.parametrize("change", ["signature", "timestamp", "token", "stale"])
def test_url_verification_refuses_forged_or_stale(
    wx: WechatServer, change: str
) -> None:
    params = {**wx.params(), "echostr": "42"}
    if change == "signature":
        params["signature"] = "0" * 40
    elif change == "timestamp":
        params["timestamp"] = str(int(params["timestamp"]) + 1)
    elif change == "token":
        params["signature"] = sign(
            "not-the-token", params["timestamp"], params["nonce"]
        )
    else:
        stamp = str(int(time.time()) - 600)
        params.update(timestamp=stamp, signature=sign(TOKEN, stamp, params["nonce"]))
    response = httpx.get(wx.url, params=params, timeout=10)
    assert response.status_code == 403 and "42" not in response.text


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_a_text_message_gets_a_passive_reply_in_each_mode(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa, mode: str
) -> None:
    openid = new_openid()
    msg_id = new_msg_id()
    answer = wx.post(text_xml(openid, "你好", msg_id), mode=mode)
    assert answer.status == 200
    assert answer.text == "收到：你好"
    assert answer.encrypted == (mode != "plain")
    assert answer.reply is not None
    assert answer.reply["ToUserName"] == openid
    assert answer.reply["FromUserName"] == ACCOUNT
    rows = crm_db.messages(openid)
    assert [(r.sender, r.text) for r in rows] == [
        ("customer", "你好"),
        ("bot", "收到：你好"),
    ]
    assert rows[0].external_msg_id == msg_id
    conversation_id = crm_db.conversation_id(openid)
    turn = slow_rasa.turns(conversation_id)[0]["body"]
    assert turn["metadata"]["channel"] == "wechat"
    assert turn["metadata"]["conversation_id"] == conversation_id


def _refused_without_trace(
    wx: WechatServer, crm_db: CrmDb, gateway: Gateway, openid: str, status: int,
    params: dict[str, str], body: bytes,
) -> None:  # fmt: skip
    response = httpx.post(wx.url, params=params, content=body, timeout=10)
    assert response.status_code == status
    assert response.text == ""
    assert crm_db.conversation_id(openid) is None
    assert openid not in gateway.log()


@pytest.mark.parametrize("forgery", ["signature", "token", "stale", "missing"])
def test_forged_or_stale_messages_are_refused_without_side_effects(
    wx: WechatServer, crm_db: CrmDb, wx_gateway: Gateway, forgery: str
) -> None:
    openid = new_openid()
    params = wx.params()
    if forgery == "signature":
        params["signature"] = "f" * 40
    elif forgery == "token":
        params["signature"] = sign("guessed", params["timestamp"], params["nonce"])
    elif forgery == "stale":
        stamp = str(int(time.time()) - 301)
        params.update(timestamp=stamp, signature=sign(TOKEN, stamp, params["nonce"]))
    else:
        params.pop("signature")
    body = text_xml(openid, "转账给我").encode()
    _refused_without_trace(wx, crm_db, wx_gateway, openid, 403, params, body)


def test_a_forged_safe_mode_message_signature_is_refused(
    wx: WechatServer, crm_db: CrmDb, wx_gateway: Gateway
) -> None:
    openid = new_openid()
    params, body = wx.request(text_xml(openid, "你好"), mode="safe")
    params["msg_signature"] = "0" * 40
    _refused_without_trace(wx, crm_db, wx_gateway, openid, 403, params, body)


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_xml_with_a_dtd_or_entities_is_refused(
    wx: WechatServer, crm_db: CrmDb, wx_gateway: Gateway, payload: str
) -> None:
    openid = new_openid()
    body = payload.format(openid=openid).encode()
    _refused_without_trace(wx, crm_db, wx_gateway, openid, 400, wx.params(), body)


def test_xxe_inside_a_safe_mode_message_is_refused(
    wx: WechatServer, crm_db: CrmDb, wx_gateway: Gateway
) -> None:
    openid = new_openid()
    params, body = wx.request(XXE.format(openid=openid), mode="safe")
    _refused_without_trace(wx, crm_db, wx_gateway, openid, 400, params, body)


def test_an_oversized_body_is_refused(
    wx: WechatServer, crm_db: CrmDb, wx_gateway: Gateway
) -> None:
    openid = new_openid()
    body = text_xml(openid, "保" * 30_000).encode()  # 90 kB
    _refused_without_trace(wx, crm_db, wx_gateway, openid, 413, wx.params(), body)


def test_an_oversized_chunked_body_is_refused(wx: WechatServer) -> None:
    def chunks():  # no Content-Length: the gateway counts while reading
        for _ in range(100):
            yield b"<!-- " + b"x" * 1000 + b" -->"

    response = httpx.post(wx.url, params=wx.params(), content=chunks(), timeout=10)
    assert response.status_code == 413


def test_garbage_is_refused(wx: WechatServer) -> None:
    response = httpx.post(wx.url, params=wx.params(), content=b"{not xml", timeout=10)
    assert response.status_code == 400


def test_nothing_of_the_message_is_logged(
    wx: WechatServer, wx_gateway: Gateway
) -> None:
    openid = new_openid()
    assert wx.post(text_xml(openid, "我的身份证号110101199003071234")).text
    log = wx_gateway.log()
    assert openid not in log and "110101199003071234" not in log
