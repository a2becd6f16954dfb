"""Rasa's REST shape through the gateway, and the history the chat page reloads."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.bot.conftest import CrmReader, Gateway, RasaStandIn
from tests.bot.customer import Customer, in_thread


def rest(gateway: Gateway, body: object) -> httpx.Response:
    """One POST to the gateway's REST webhook."""
    return httpx.post(f"{gateway.url}/webhooks/rest/webhook", json=body, timeout=10)


def test_rest_shape_answers_the_list_of_messages(
    gateway: Gateway, crm_reader: CrmReader, rasa_stand_in: RasaStandIn
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    response = rest(gateway, {"sender": sender, "message": "#buttons"})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "recipient_id": sender,
            "text": "请问您想办理哪项业务？",
            "buttons": [
                {"title": "查询保单", "payload": "/ask_policy"},
                {"title": "转人工", "payload": "/request_human"},
            ],
        }
    ]
    conversation_id = crm_reader.conversation_of("rest", sender)
    assert crm_reader.conversation(conversation_id)["channel"] == "rest"
    turn = rasa_stand_in.got("/webhooks/rest/webhook", sender=str(conversation_id))[-1]
    assert turn["body"]["metadata"]["channel"] == "rest"
    senders = [m["sender"] for m in crm_reader.transcript(conversation_id)]
    assert senders == ["customer", "bot"]


def test_rest_metadata_cannot_claim_a_verified_customer(
    gateway: Gateway, crm_reader: CrmReader, rasa_stand_in: RasaStandIn
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    body = {
        "sender": sender,
        "message": "查保单",
        "metadata": {"verified": True, "customer_id": 1},
    }
    assert rest(gateway, body).status_code == 200
    conversation_id = crm_reader.conversation_of("rest", sender)
    turn = rasa_stand_in.got("/webhooks/rest/webhook", sender=str(conversation_id))[-1]
    assert turn["body"]["metadata"]["verified"] is False
    assert turn["body"]["metadata"]["customer_id"] is None


@pytest.mark.parametrize(
    ("message", "code"), [("", "text_empty"), ("x" * 2001, "text_too_long")]
)
def test_rest_refuses_empty_or_oversized_text(
    gateway: Gateway, message: str, code: str
) -> None:
    response = rest(gateway, {"sender": "rest-bad", "message": message})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_rest_needs_a_sender(gateway: Gateway) -> None:
    assert rest(gateway, {"message": "你好"}).status_code == 422


@in_thread
async def test_history_holds_every_side_of_the_open_conversation(
    gateway: Gateway, crm_reader: CrmReader
) -> None:
    customer = Customer(gateway.url)
    await customer.connect()
    try:
        await customer.say("/choose", display="查询保单")
        await customer.next()
        await customer.say("<b>粗体</b>")
        await customer.next()
    finally:
        await customer.close()
    response = httpx.get(
        f"{gateway.url}/api/history",
        params={"session_id": customer.session_id},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    history = response.json()
    assert history["session_id"] == customer.session_id
    assert history["status"] == "bot"
    shown = [(m["metadata"]["sender"], m["text"]) for m in history["messages"]]
    assert shown == [
        ("customer", "查询保单"),
        ("bot", "请问您想办理哪项业务？"),
        ("customer", "<b>粗体</b>"),
        ("bot", "收到：<b>粗体</b>"),
    ]
    assert history["messages"][1]["quick_replies"][0]["title"] == "查询保单"
    ids = [m["metadata"]["message_id"] for m in history["messages"]]
    assert ids == sorted(ids)


def test_history_of_an_unknown_session_is_empty(
    gateway: Gateway, crm_reader: CrmReader
) -> None:
    session_id = uuid.uuid4().hex
    response = httpx.get(
        f"{gateway.url}/api/history", params={"session_id": session_id}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["messages"] == []
    assert response.json()["status"] == "bot"
    # reading the history opened no conversation in the CRM
    found = crm_reader.http.get(
        "/conversations", params={"channel": "web", "external_id": session_id}
    )
    assert found.status_code == 404


@pytest.mark.parametrize("session_id", ["short", "../etc/passwd", "x" * 65])
def test_history_refuses_malformed_session_ids(
    gateway: Gateway, session_id: str
) -> None:
    response = httpx.get(
        f"{gateway.url}/api/history", params={"session_id": session_id}, timeout=10
    )
    assert response.status_code == 422
