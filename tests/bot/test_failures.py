"""Rasa or the CRM down: the customer gets a polite Chinese notice, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.messages import NOTICE_CRM_DOWN, NOTICE_RASA_DOWN
from tests.bot.conftest import CrmReader, Gateway, RasaStandIn, start_gateway
from tests.bot.customer import Customer, in_thread
from tests.live_crm import LiveCrm
from tests.ports import free_port


@pytest.fixture(scope="module")
def without_rasa(
    tmp_path_factory: pytest.TempPathFactory, crm: LiveCrm
) -> Iterator[Gateway]:
    """A gateway whose Rasa is not running (connection refused)."""
    gateway = start_gateway(
        tmp_path_factory.mktemp("no-rasa"),
        crm_url=crm.url,
        token=crm.token,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="t",
    )
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def without_crm(
    tmp_path_factory: pytest.TempPathFactory, rasa_stand_in: RasaStandIn
) -> Iterator[Gateway]:
    """A gateway whose CRM is not running."""
    gateway = start_gateway(
        Path(tmp_path_factory.mktemp("no-crm")),
        crm_url=f"http://127.0.0.1:{free_port()}",
        token="t",
        rasa_url=rasa_stand_in.url,
        rasa_token=rasa_stand_in.token,
    )
    yield gateway
    gateway.stop()


@in_thread
async def test_rasa_down_gives_a_notice_and_the_message_is_recorded(
    without_rasa: Gateway, crm_reader: CrmReader
) -> None:
    customer = Customer(without_rasa.url)
    await customer.connect()
    try:
        ack = await customer.say("在吗？")
        assert ack["ok"] is True
        notice = await customer.next()
        assert notice["text"] == NOTICE_RASA_DOWN
        assert notice["metadata"]["sender"] == "system"
    finally:
        await customer.close()
    conversation_id = crm_reader.conversation_of("web", str(customer.session_id))
    assert [
        (m["sender"], m["text"]) for m in crm_reader.transcript(conversation_id)
    ] == [
        ("customer", "在吗？"),
        ("system", NOTICE_RASA_DOWN),
    ]


@in_thread
async def test_crm_down_gives_a_notice_and_rasa_is_not_asked(
    without_crm: Gateway, rasa_stand_in: RasaStandIn
) -> None:
    turns = len(rasa_stand_in.got("/webhooks/rest/webhook"))
    customer = Customer(without_crm.url)
    await customer.connect()
    try:
        ack = await customer.say("我想查保单")
        assert ack == {
            "ok": False,
            "error": "crm_unavailable",
            "message": NOTICE_CRM_DOWN,
        }
        notice = await customer.next()
        assert notice["text"] == NOTICE_CRM_DOWN
        assert notice["metadata"]["sender"] == "system"
    finally:
        await customer.close()
    assert len(rasa_stand_in.got("/webhooks/rest/webhook")) == turns


def test_rest_channel_with_crm_down_answers_the_notice(without_crm: Gateway) -> None:
    import httpx

    response = httpx.post(
        f"{without_crm.url}/webhooks/rest/webhook",
        json={"sender": "u1", "message": "你好"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json() == [{"recipient_id": "u1", "text": NOTICE_CRM_DOWN}]


def test_history_with_crm_down_is_a_clear_503(without_crm: Gateway) -> None:
    import httpx

    response = httpx.get(
        f"{without_crm.url}/api/history", params={"session_id": "a" * 32}, timeout=10
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "crm_unavailable"
