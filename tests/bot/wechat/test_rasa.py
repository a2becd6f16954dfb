"""The WeChat channel through the real Rasa server and action server: a new
follower is welcomed, taps 查保单 in the menu, verifies and hears about their
policies (capability 1 on WeChat), each reply passive or through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.process import Gateway
from tests.bot.wechat.conftest import CrmDb, start_wechat_gateway
from tests.bot.wechat.fake_api import FakeWechat
from tests.bot.wechat.player import (
    WechatServer,
    event_xml,
    new_openid,
    text_xml,
)
from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer, domain_text

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def rasa_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    live_crm: LiveCrm,
    rasa_server: RasaServer,
    fake_wechat: FakeWechat,
) -> Iterator[Gateway]:
    """A WeChat gateway in front of the real Rasa (4.5 s passive window)."""
    gateway = start_wechat_gateway(
        tmp_path_factory.mktemp("wechat-rasa"),
        live_crm,
        rasa_server.url,
        fake_wechat,
        rasa_token=rasa_server.token,
        GATEWAY_WECHAT_PASSIVE_SECONDS="4.5",
    )
    yield gateway
    gateway.stop()


def test_a_follower_verifies_and_asks_about_policies_on_wechat(
    rasa_gateway: Gateway, live_crm: LiveCrm, fake_wechat: FakeWechat
) -> None:
    wx = WechatServer(rasa_gateway.url)
    openid = new_openid()
    pushed = 0

    def say(xml: str) -> str:
        """The bot's answer, passive or (a slow turn) through the API."""
        nonlocal pushed
        answer = wx.post(xml, mode="safe")
        assert answer.status == 200
        if answer.text is not None:
            return answer.text
        pushed += 1
        return "\n\n".join(fake_wechat.wait_for(openid, pushed, timeout=30)[-1:])

    assert "欢迎关注安顺人寿" in say(event_xml(openid, "subscribe"))
    assert domain_text("utter_ask_phone") in say(
        event_xml(openid, "CLICK", key="MY_POLICY")
    )
    assert domain_text("utter_ask_id_last4") in say(text_xml(openid, "13800138004"))
    verified = say(text_xml(openid, "1861"))
    assert "身份核实成功" in verified

    db = CrmDb(live_crm)
    try:
        conversation_id = db.conversation_id(openid)
        level = db.scalar(
            "SELECT verification_level FROM conversations WHERE id = :id",
            id=conversation_id,
        )
        assert level == "verified"
        customer = [r.text for r in db.messages(openid) if r.sender == "customer"]
        assert customer == ["[客户关注了公众号]", "/ask_policy", "13800138004", "1861"]
    finally:
        db.engine.dispose()
