"""A web customer talks to the real bot: socket.io → gateway → Rasa → actions → CRM."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.bot.conftest import CrmReader, Gateway, start_gateway
from tests.bot.customer import Customer, in_thread
from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer, domain_text

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def rasa_gateway(
    tmp_path_factory: pytest.TempPathFactory, live_crm: LiveCrm, rasa_server: RasaServer
) -> Iterator[Gateway]:
    """The gateway in front of the real Rasa server and the shared live CRM."""
    gateway = start_gateway(
        tmp_path_factory.mktemp("rasa-gateway"),
        crm_url=live_crm.url,
        token=live_crm.token,
        rasa_url=rasa_server.url,
        rasa_token=rasa_server.token,
        extra_env={"GATEWAY_RASA_TIMEOUT_SECONDS": "60"},
    )
    yield gateway
    gateway.stop()


async def turn(customer: Customer, text: str) -> list[str]:
    """Send one message; the texts of every reply the turn delivered."""
    ack = await customer.say(text)
    assert ack["ok"] is True, ack
    await asyncio.sleep(0.05)  # the replies were emitted before the ack
    texts = []
    while not customer.inbox.empty():
        event, data = customer.inbox.get_nowait()
        if event == "bot_uttered":
            texts.append(data["text"])
    return texts


@in_thread
async def test_a_web_customer_is_answered_by_the_real_bot(
    rasa_gateway: Gateway, live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    customer = Customer(rasa_gateway.url)
    await customer.connect()
    try:
        greeting = await turn(customer, "你好")
        asked = await turn(customer, "我的理赔到哪一步了")
        await turn(customer, "13800138004")
        answered = await turn(customer, "1861")
    finally:
        await customer.close()
    assert greeting == [domain_text("utter_greet")]
    assert asked and all(text for text in asked)
    assert answered and "理赔" in "".join(answered)

    crm = CrmReader(live_crm)
    try:
        conversation_id = crm.conversation_of("web", str(customer.session_id))
        transcript = crm.transcript(conversation_id)
        conversation = crm.conversation(conversation_id)
    finally:
        crm.http.close()
    customer_lines = [m for m in transcript if m["sender"] == "customer"]
    said = [m["text"] for m in customer_lines]
    assert said == ["你好", "我的理赔到哪一步了", "13800138004", "1861"]
    bot = [m["text"] for m in transcript if m["sender"] == "bot"]
    assert bot[: len(greeting)] == greeting
    assert bot[-len(answered) :] == answered
    # the understanding of each turn is recorded after it (greeting: greet)
    assert customer_lines[0]["intent"] == "greet"
    assert 0 < customer_lines[0]["intent_confidence"] <= 1
    assert conversation["verification_level"] != "none"
    assert conversation["customer_id"] is not None

    # Rasa's tracker is the CRM conversation id; the actions saw the gateway's metadata.
    tracker = httpx.get(
        f"{rasa_server.url}/conversations/{conversation_id}/tracker",
        params={"token": rasa_server.token},
        timeout=30,
    ).json()
    assert tracker["slots"]["customer_id"] == conversation["customer_id"]
    assert tracker["latest_message"]["metadata"]["conversation_id"] == conversation_id
