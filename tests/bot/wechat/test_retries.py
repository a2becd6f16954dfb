"""WeChat's retries and its 5-second rule: one turn and one reply per message,
passive when the turn is quick, through the customer-service API when it is not,
across a gateway restart and across gateway processes sharing Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.bot.process import Gateway
from tests.bot.wechat.conftest import (
    PASSIVE_SECONDS,
    SLOW,
    CrmDb,
    SlowRasa,
    redis_url,
    run_async,
    start_wechat_gateway,
)
from tests.bot.wechat.fake_api import FakeWechat
from tests.bot.wechat.player import (
    Answer,
    WechatServer,
    new_msg_id,
    new_openid,
    text_xml,
)
from tests.live_crm import LiveCrm


async def storm(servers: list[WechatServer], xml: str, times: int = 3) -> list[Answer]:
    """The same callback ``times`` times at once (spread over ``servers``)."""
    async with httpx.AsyncClient() as client:
        return await asyncio.gather(
            *(servers[i % len(servers)].apost(client, xml) for i in range(times))
        )


def test_a_retry_storm_runs_one_turn_and_gives_one_reply(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    answers = run_async(storm([wx], text_xml(openid, "风暴", new_msg_id())))
    assert sorted(a.text or "success" for a in answers) == [
        "success",
        "success",
        "收到：风暴",
    ]
    conversation_id = crm_db.conversation_id(openid)
    assert len(slow_rasa.turns(conversation_id)) == 1
    rows = crm_db.messages(openid)
    assert [r.sender for r in rows] == ["customer", "bot"]
    assert fake_wechat.to(openid) == []  # the reply went passively, once


def test_a_slow_turn_answers_success_then_uses_the_api(
    wx: WechatServer, crm_db: CrmDb, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    answer = wx.post(text_xml(openid, f"#sleep {SLOW}"))
    assert answer.status == 200 and answer.body == "success"
    assert answer.seconds < PASSIVE_SECONDS + 1
    assert fake_wechat.wait_for(openid) == ["慢回复"]
    assert all(s.raw_utf8 for s in fake_wechat.sent if s.openid == openid)
    assert [r.sender for r in crm_db.messages(openid)] == ["customer", "bot"]


def test_retries_of_a_slow_turn_start_no_second_turn_and_send_once(
    wx: WechatServer, crm_db: CrmDb, slow_rasa: SlowRasa, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    xml = text_xml(openid, f"#sleep {SLOW}", new_msg_id())
    answers = run_async(storm([wx], xml))
    assert [a.body for a in answers] == ["success"] * 3
    assert fake_wechat.wait_for(openid) == ["慢回复"]
    assert wx.post(xml).body == "success"  # WeChat's last retry, after the turn
    conversation_id = crm_db.conversation_id(openid)
    assert len(slow_rasa.turns(conversation_id)) == 1
    assert fake_wechat.to(openid) == ["慢回复"]


def test_a_retry_arriving_while_the_turn_runs_carries_the_reply(
    wx: WechatServer, slow_rasa: SlowRasa, crm_db: CrmDb, fake_wechat: FakeWechat
) -> None:
    """WeChat dropped the first connection; its retry gets the passive reply."""
    openid = new_openid()
    xml = text_xml(openid, "#sleep 0.8", new_msg_id())

    async def first_then_retry() -> tuple[Answer, Answer]:
        async with httpx.AsyncClient() as client:
            first = asyncio.create_task(wx.apost(client, xml))
            await asyncio.sleep(0.5)
            retry = await wx.apost(client, xml)
            return await first, retry

    first, retry = run_async(first_then_retry())
    assert (first.body, retry.text) == ("success", "慢回复")
    assert len(slow_rasa.turns(crm_db.conversation_id(openid))) == 1
    assert fake_wechat.to(openid) == []


def test_replies_that_do_not_fit_go_on_through_the_api(
    wx: WechatServer, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    answer = wx.post(text_xml(openid, "#long"))
    assert answer.text == "简短的开头"
    sent = fake_wechat.wait_for(openid, 2)
    assert "".join(sent) == "保单信息" * 300  # 3,600 bytes: two full messages
    assert fake_wechat.to(openid) == sent
    assert all(len(text.encode()) <= 2000 for text in sent)


def test_two_replies_share_one_passive_message(wx: WechatServer) -> None:
    assert wx.post(text_xml(new_openid(), "#two")).text == "第一条回复\n\n第二条回复"


@pytest.fixture(scope="module")
def second_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    wx_crm: LiveCrm,
    slow_rasa: SlowRasa,
    fake_wechat: FakeWechat,
) -> Iterator[Gateway]:
    """Another gateway process on the same CRM (no Redis): a restarted one."""
    gateway = start_wechat_gateway(
        tmp_path_factory.mktemp("wechat-restart"), wx_crm, slow_rasa.url, fake_wechat
    )
    yield gateway
    gateway.stop()


def test_a_retry_after_a_restart_is_recognised_by_the_crm(
    wx: WechatServer,
    second_gateway: Gateway,
    crm_db: CrmDb,
    slow_rasa: SlowRasa,
    fake_wechat: FakeWechat,
) -> None:
    openid = new_openid()
    xml = text_xml(openid, "重启前", new_msg_id())
    assert wx.post(xml).text == "收到：重启前"
    # A fresh process knows nothing of it: the CRM's external_msg_id does.
    assert WechatServer(second_gateway.url).post(xml).body == "success"
    assert len(slow_rasa.turns(crm_db.conversation_id(openid))) == 1
    assert [r.sender for r in crm_db.messages(openid)] == ["customer", "bot"]
    assert fake_wechat.to(openid) == []


@pytest.fixture(scope="module")
def redis_pair(
    tmp_path_factory: pytest.TempPathFactory,
    wx_crm: LiveCrm,
    slow_rasa: SlowRasa,
    fake_wechat: FakeWechat,
) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateway processes sharing Redis."""
    url = redis_url()
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        if __import__("os").environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    workdir = tmp_path_factory.mktemp("wechat-redis")
    pair = tuple(
        start_wechat_gateway(workdir, wx_crm, slow_rasa.url, fake_wechat, REDIS_URL=url)
        for _ in range(2)
    )
    yield pair  # type: ignore[misc]
    for gateway in pair:
        gateway.stop()


@pytest.mark.parametrize("message", ["跨进程", f"#sleep {SLOW}"], ids=["quick", "slow"])
def test_a_storm_over_two_processes_runs_one_turn_and_replies_once(
    redis_pair: tuple[Gateway, Gateway],
    crm_db: CrmDb,
    slow_rasa: SlowRasa,
    fake_wechat: FakeWechat,
    message: str,
) -> None:
    servers = [WechatServer(g.url) for g in redis_pair]
    openid = new_openid()
    answers = run_async(storm(servers, text_xml(openid, message, new_msg_id()), 4))
    passive = [a.text for a in answers if a.text]
    conversation_id = crm_db.conversation_id(openid)
    if message.startswith("#sleep"):
        assert passive == []
        assert fake_wechat.wait_for(openid) == ["慢回复"]
    else:
        assert passive == ["收到：跨进程"]
    assert len(slow_rasa.turns(conversation_id)) == 1
    time.sleep(0.5)
    assert len(passive) + len(fake_wechat.to(openid)) == 1
