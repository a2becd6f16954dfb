"""CRM → gateway events (docs/takeover.md): agent messages and the handback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.bot.conftest import HANDBACK_TEXT, CrmReader, Gateway, RasaStandIn
from tests.bot.customer import Customer, chatting, in_thread

AGENT = {"id": 3, "name": "王芳", "employee_no": "KN1003"}


def post_event(
    gateway: Gateway, event: dict[str, Any], token: str | None
) -> httpx.Response:
    """Post an event as the CRM does (with the service token unless ``None``)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(
        f"{gateway.url}/internal/events", json=event, headers=headers, timeout=10
    )


def message_event(
    session_id: str, conversation_id: int, **message: Any
) -> dict[str, Any]:
    """A ``message`` event for a web session."""
    return {
        "type": "message",
        "conversation_id": conversation_id,
        "channel": "web",
        "external_id": session_id,
        "message": {"id": 990001, "created_at": "2026-01-01T08:00:00Z", **message},
    }


@pytest.mark.parametrize("token", [None, "wrong-token", "dev-service-token"])
def test_events_need_the_service_token(gateway: Gateway, token: str | None) -> None:
    event = message_event("a" * 32, 1, sender="agent", text="x", agent=AGENT)
    response = post_event(gateway, event, token)
    assert response.status_code == 401


@in_thread
async def test_an_agent_message_reaches_every_tab_with_the_agents_name(
    gateway: Gateway,
) -> None:
    async with chatting(gateway.url) as customer:
        other = Customer(gateway.url)
        await other.connect(customer.session_id)
        try:
            event = message_event(
                str(customer.session_id),
                12,
                sender="agent",
                text="您好，我是王芳",
                agent=AGENT,
            )
            response = post_event(gateway, event, gateway.token)
            assert response.status_code == 202, response.text
            for tab in (customer, other):
                got = await tab.next()
                assert got["text"] == "您好，我是王芳"
                assert got["metadata"] == {
                    "sender": "agent",
                    "agent_name": "王芳",
                    "employee_no": "KN1003",
                    "message_id": 990001,
                    "created_at": "2026-01-01T08:00:00Z",
                }
        finally:
            await other.close()


@in_thread
async def test_a_system_notice_is_marked_as_system(
    gateway: Gateway,
) -> None:
    async with chatting(gateway.url) as customer:
        notice = "客服王芳（工号KN1003）已接入，为您服务"
        event = message_event(
            str(customer.session_id), 12, sender="system", text=notice
        )
        assert post_event(gateway, event, gateway.token).status_code == 202
        got = await customer.next()
        assert got["text"] == notice and got["metadata"]["sender"] == "system"
        assert "agent_name" not in got["metadata"]


@in_thread
async def test_agent_html_reaches_the_customer_as_text(
    gateway: Gateway,
) -> None:
    async with chatting(gateway.url) as customer:
        text = "<script>alert(1)</script>"
        event = message_event(
            str(customer.session_id), 12, sender="agent", text=text, agent=AGENT
        )
        assert post_event(gateway, event, gateway.token).status_code == 202
        assert (await customer.next())["text"] == text


@in_thread
async def test_other_sessions_do_not_get_it(
    gateway: Gateway,
) -> None:
    async with chatting(gateway.url) as customer:
        stranger = Customer(gateway.url)
        await stranger.connect()
        try:
            event = message_event(
                str(customer.session_id), 12, sender="agent", text="只给你", agent=AGENT
            )
            assert post_event(gateway, event, gateway.token).status_code == 202
            assert (await customer.next())["text"] == "只给你"
            assert await stranger.nothing(0.5) == []
        finally:
            await stranger.close()


def test_unknown_events_are_ignored(gateway: Gateway) -> None:
    event = {
        "type": "typing",
        "conversation_id": 1,
        "channel": "web",
        "external_id": "x",
    }
    response = post_event(gateway, event, gateway.token)
    assert response.status_code == 202 and response.json() == {"status": "ignored"}


@in_thread
async def test_handback_resumes_rasa_and_delivers_and_records_the_bot(
    gateway: Gateway,
    rasa_stand_in: RasaStandIn,
    crm_reader: CrmReader,
) -> None:
    async with chatting(gateway.url) as customer:
        await customer.say("转人工")
        await customer.next()
        conversation_id = crm_reader.conversation_of("web", str(customer.session_id))
        event = {
            "type": "handback",
            "conversation_id": conversation_id,
            "channel": "web",
            "external_id": customer.session_id,
            "escalation_id": 7,
            "agent": AGENT,
        }
        response = post_event(gateway, event, gateway.token)
        assert response.status_code == 202, response.text
        got = await customer.next()
        assert got["text"] == HANDBACK_TEXT
        assert [b["title"] for b in got["quick_replies"]] == [
            "5分",
            "4分",
            "3分",
            "2分",
            "1分",
        ]

        sender = str(conversation_id)
        events = rasa_stand_in.got("/tracker/events", sender=sender)
        assert [e["body"] for e in events] == [
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        ]
        triggers = rasa_stand_in.got("/trigger_intent", sender=sender)
        assert triggers[0]["body"]["name"] == "EXTERNAL_handback"
        assert triggers[0]["body"]["entities"] == {"escalation_id": 7}
        assert triggers[0]["query"]["token"] == [rasa_stand_in.token]
        last = crm_reader.transcript(conversation_id)[-1]
        assert (last["sender"], last["text"]) == ("bot", HANDBACK_TEXT)
        assert got["metadata"]["message_id"] == last["id"]
