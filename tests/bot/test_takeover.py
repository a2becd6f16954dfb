"""Human takeover through the real CRM: escalate, accept, chat, note, resolve, handback.

The CRM posts its events to the gateway (CRM_GATEWAY_URL); the bot side is the
Rasa stand-in, so what is checked here is the relay and the CRM ⇄ gateway contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.bot.conftest import HANDBACK_TEXT, CrmReader, Gateway, RasaStandIn
from tests.bot.customer import Customer, in_thread
from tests.live_crm import LiveCrm

SUPERVISOR = ("KN1031", "demo1234")  # 曹丽华, supervisor of the general desk


@pytest.fixture(scope="module")
def agent(crm: LiveCrm) -> Iterator[httpx.Client]:
    """The general desk's supervisor, logged in (bearer token)."""
    client = httpx.Client(base_url=f"{crm.url}/api/v1/agent", timeout=15)
    employee_no, password = SUPERVISOR
    response = client.post(
        "/auth/login", json={"employee_no": employee_no, "password": password}
    )
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    yield client
    client.close()


@in_thread
async def test_an_agent_takes_over_and_hands_back(
    gateway: Gateway,
    agent: httpx.Client,
    crm_reader: CrmReader,
    rasa_stand_in: RasaStandIn,
) -> None:
    customer = Customer(gateway.url)
    await customer.connect()
    try:
        await customer.say("你好")
        await customer.next()
        conversation_id = crm_reader.conversation_of("web", str(customer.session_id))
        escalation = crm_reader.escalate(conversation_id)
        turns = len(rasa_stand_in.got("/webhooks/rest/webhook"))

        accepted = agent.post(f"/escalations/{escalation['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        joined = await customer.next()
        assert joined["metadata"]["sender"] == "system"
        assert "曹丽华" in joined["text"]

        sent = agent.post(
            f"/conversations/{conversation_id}/messages",
            json={"text": "您好，我是曹丽华，请问有什么可以帮您？"},
        )
        assert sent.status_code == 201, sent.text
        reply = await customer.next()
        assert reply["text"] == "您好，我是曹丽华，请问有什么可以帮您？"
        assert reply["metadata"]["sender"] == "agent"
        assert reply["metadata"]["agent_name"] == "曹丽华"
        assert reply["metadata"]["employee_no"] == "KN1031"
        assert reply["metadata"]["message_id"] == sent.json()["id"]

        note = agent.post(
            f"/conversations/{conversation_id}/notes", json={"text": "内部备注：勿外传"}
        )
        assert note.status_code == 201, note.text
        ack = await customer.say("我想改一下受益人")
        assert ack["status"] == "agent"
        assert await customer.nothing(0.5) == []
        assert len(rasa_stand_in.got("/webhooks/rest/webhook")) == turns

        history = httpx.get(
            f"{gateway.url}/api/history",
            params={"session_id": customer.session_id},
            timeout=10,
        ).json()
        shown = [(m["metadata"]["sender"], m["text"]) for m in history["messages"]]
        assert ("agent", "您好，我是曹丽华，请问有什么可以帮您？") in shown
        assert all("内部备注" not in text for _, text in shown)
        agent_line = next(
            m for m in history["messages"] if m["metadata"]["sender"] == "agent"
        )
        assert agent_line["metadata"]["agent_name"] == "曹丽华"

        resolved = agent.post(
            f"/escalations/{escalation['id']}/resolve", json={"outcome": "resolved"}
        )
        assert resolved.status_code == 200, resolved.text
        texts = []
        while HANDBACK_TEXT not in texts:
            texts.append((await customer.next())["text"])
        triggers = rasa_stand_in.got("/trigger_intent", sender=str(conversation_id))
        assert triggers[-1]["body"]["entities"] == {"escalation_id": escalation["id"]}

        ack = await customer.say("谢谢")
        assert ack["status"] == "bot"
        assert (await customer.next())["text"] == "收到：谢谢"
    finally:
        await customer.close()
