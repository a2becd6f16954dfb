"""The web channel end to end: socket.io customer, gateway, live CRM, Rasa stand-in."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from bot.messages import NOTICE_RASA_DOWN, TEXT_MAX
from tests.bot.conftest import CrmReader, Gateway, RasaStandIn
from tests.bot.customer import Customer, chatting, in_thread


@in_thread
async def test_session_request_confirms_a_new_or_the_given_id(gateway: Gateway) -> None:
    fresh = Customer(gateway.url)
    returning = Customer(gateway.url)
    try:
        assert re.fullmatch(r"[0-9a-f]{32}", await fresh.connect())
        wanted = uuid.uuid4().hex
        assert await returning.connect(wanted) == wanted
    finally:
        await fresh.close()
        await returning.close()


@in_thread
async def test_a_message_gets_the_bot_reply_and_both_are_recorded(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        ack = await customer.say("你好")
        assert ack["ok"] is True and ack["status"] == "bot"
        reply = await customer.next()
        assert reply["text"] == "收到：你好"
        assert reply["metadata"]["sender"] == "bot"
        assert isinstance(reply["metadata"]["message_id"], int)

        conversation = crm_reader.conversation(
            crm_reader.conversation_of("web", str(customer.session_id))
        )
        assert conversation["channel"] == "web"
        assert conversation["external_id"] == customer.session_id
        transcript = crm_reader.transcript(conversation["id"])
        assert [(m["sender"], m["text"]) for m in transcript] == [
            ("customer", "你好"),
            ("bot", "收到：你好"),
        ]
        assert transcript[0]["id"] == ack["message_id"]
        assert transcript[1]["id"] == reply["metadata"]["message_id"]


@in_thread
async def test_rasa_gets_the_conversation_id_and_metadata_and_the_token(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("查一下")
        await customer.next()
        turn = _turns(customer, rasa_stand_in, crm_reader)[-1]
        conversation_id = int(turn["sender"])
        assert turn["body"]["message"] == "查一下"
        assert turn["body"]["metadata"] == {
            "conversation_id": conversation_id,
            "channel": "web",
            "customer_id": None,
            "verified": False,
        }
        assert turn["query"].get("token") == [rasa_stand_in.token]


@in_thread
async def test_the_turns_understanding_is_recorded_with_the_message(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        ack = await customer.say("早上好")
        await customer.next()
        sender = _turns(customer, rasa_stand_in, crm_reader)[-1]["sender"]
        first: dict[str, Any] = {}
        for _ in range(50):  # recorded after the turn, off the customer's path
            first = crm_reader.transcript(int(sender))[0]
            if first["intent"] is not None:
                break
            await customer.nothing(0.1)
    reads = [r for r in rasa_stand_in.got("/tracker", sender=sender)]
    assert reads[0]["method"] == "GET"
    assert reads[0]["query"]["include_events"] == ["NONE"]
    assert first["id"] == ack["message_id"]
    assert (first["intent"], first["intent_confidence"]) == ("greet", 0.93)
    assert first["sentiment"] == 0.25


@in_thread
async def test_quick_replies_arrive_as_rasa_webchat_expects(gateway: Gateway) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("#buttons")
        reply = await customer.next()
        assert reply["text"] == "请问您想办理哪项业务？"
        assert reply["quick_replies"] == [
            {"content_type": "text", "title": "查询保单", "payload": "/ask_policy"},
            {"content_type": "text", "title": "转人工", "payload": "/request_human"},
        ]
        assert [b["title"] for b in reply["buttons"]] == ["查询保单", "转人工"]


@in_thread
async def test_a_clicked_quick_reply_sends_its_payload_and_keeps_its_label(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("/choose", display="查询保单")
        await customer.next()
        turn = _turns(customer, rasa_stand_in, crm_reader)[-1]
        assert turn["body"]["message"] == "/choose"
        first = crm_reader.transcript(int(turn["sender"]))[0]
        assert first["text"] == "/choose"
        assert first["payload"] == {"metadata": {"display": "查询保单"}}


@in_thread
async def test_several_replies_arrive_in_order(gateway: Gateway) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("#two")
        assert await customer.texts(2) == ["第一条回复", "第二条回复"]


@in_thread
async def test_html_stays_text_all_the_way(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        attack = "<img src=x onerror=alert(1)>"
        await customer.say(attack)
        reply = await customer.next()
        assert reply["text"] == f"收到：{attack}"
        conversation_id = int(_turns(customer, rasa_stand_in, crm_reader)[-1]["sender"])
        assert crm_reader.transcript(conversation_id)[0]["text"] == attack


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "text_empty"),
        ("   \n ", "text_empty"),
        (None, "text_empty"),
        ("长" * (TEXT_MAX + 1), "text_too_long"),
    ],
)
@in_thread
async def test_empty_or_oversized_text_is_refused_and_not_forwarded(
    gateway: Gateway, rasa_stand_in: RasaStandIn, text: object, code: str
) -> None:
    async with chatting(gateway.url) as customer:
        before = len(rasa_stand_in.got("/webhooks/rest/webhook"))
        ack = await customer.say(text)
        assert ack["ok"] is False and ack["error"] == code
        error = await customer.next("chat_error")
        assert error["code"] == code and error["message"]
        assert len(rasa_stand_in.got("/webhooks/rest/webhook")) == before


@in_thread
async def test_exactly_the_limit_is_accepted(gateway: Gateway) -> None:
    async with chatting(gateway.url) as customer:
        ack = await customer.say("保" * TEXT_MAX)
        assert ack["ok"] is True
        assert (await customer.next())["text"].startswith("收到：保")


@in_thread
async def test_two_tabs_of_one_session_see_the_same_chat(
    gateway: Gateway,
) -> None:
    async with chatting(gateway.url) as customer:
        other = Customer(gateway.url)
        await other.connect(customer.session_id)
        try:
            await customer.say("两个窗口")
            assert (await customer.next())["text"] == "收到：两个窗口"
            assert (await other.next("customer_uttered"))["text"] == "两个窗口"
            assert (await other.next())["text"] == "收到：两个窗口"
        finally:
            await other.close()


@in_thread
async def test_a_reconnect_keeps_the_conversation(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    first = Customer(gateway.url)
    session_id = await first.connect()
    await first.say("第一句")
    await first.next()
    before = _turns(first, rasa_stand_in, crm_reader)[-1]["sender"]
    await first.close()
    again = Customer(gateway.url)
    try:
        assert await again.connect(session_id) == session_id
        await again.say("第二句")
        assert (await again.next())["text"] == "收到：第二句"
        assert _turns(again, rasa_stand_in, crm_reader)[-1]["sender"] == before
    finally:
        await again.close()


@in_thread
async def test_a_typing_indicator_wraps_the_turn(gateway: Gateway) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("#slow-ok")
        assert (await customer.next())["text"] == "慢一点的回答"
        await customer.nothing(0.2)
        assert customer.typing[:1] == [True] and customer.typing[-1] is False


@pytest.mark.parametrize("text", ["#slow 太慢", "#fail 出错"])
@in_thread
async def test_slow_or_failing_rasa_gives_a_polite_notice_and_loses_nothing(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader, text: str
) -> None:
    async with chatting(gateway.url) as customer:
        ack = await customer.say(text)
        assert ack["ok"] is True
        notice = await customer.next()
        assert notice["text"] == NOTICE_RASA_DOWN
        assert notice["metadata"]["sender"] == "system"
        conversation_id = int(_turns(customer, rasa_stand_in, crm_reader)[-1]["sender"])
        transcript = crm_reader.transcript(conversation_id)
        assert [(m["sender"], m["text"]) for m in transcript] == [
            ("customer", text),
            ("system", NOTICE_RASA_DOWN),
        ]


@in_thread
async def test_queued_conversations_never_reach_rasa(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("我要找人工")
        await customer.next()
        conversation_id = int(_turns(customer, rasa_stand_in, crm_reader)[-1]["sender"])
        crm_reader.escalate(conversation_id)
        turns_before = len(_turns(customer, rasa_stand_in, crm_reader))
        ack = await customer.say("还要等多久？")
        assert ack["ok"] is True and ack["status"] == "queued"
        assert await customer.nothing(0.8) == []
        assert len(_turns(customer, rasa_stand_in, crm_reader)) == turns_before
        texts = [m["text"] for m in crm_reader.transcript(conversation_id)]
        assert texts[-1] == "还要等多久？"


@in_thread
async def test_queue_notices_follow_the_place_in_the_queue(
    gateway: Gateway, rasa_stand_in: RasaStandIn, crm_reader: CrmReader
) -> None:
    ahead, behind = Customer(gateway.url), Customer(gateway.url)
    try:
        ids = []
        for tab in (ahead, behind):
            await tab.connect()
            await tab.say("人工")
            await tab.next()
            ids.append(int(_turns(tab, rasa_stand_in, crm_reader)[-1]["sender"]))
        crm_reader.escalate(ids[0])
        escalated = crm_reader.escalate(ids[1])
        await behind.say("我在排队")  # queued: the gateway starts watching
        await behind.nothing(0.8)
        crm_reader.close(ids[0])  # the one ahead leaves the queue
        notice = await behind.next(timeout=5)
        assert notice["metadata"]["sender"] == "system"
        assert notice["text"] != escalated["notice"]
        current = crm_reader.http.get(f"/escalations/{escalated['id']}").json()
        assert notice["text"] == current["notice"]
        assert crm_reader.transcript(ids[1])[-1]["text"] == current["notice"]
    finally:
        await ahead.close()
        await behind.close()


def _turns(
    customer: Customer, rasa: RasaStandIn, crm_reader: CrmReader
) -> list[dict[str, Any]]:
    """The REST turns Rasa got for this customer's open conversation."""
    sender = str(crm_reader.conversation_of("web", str(customer.session_id)))
    return rasa.got("/webhooks/rest/webhook", sender=sender)
