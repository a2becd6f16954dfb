"""Ticket notices through the real gateway and CRM: an agent's verb reaches the
web customer whose chat is open, and waits (pending) while nobody is connected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.bot.conftest import CrmReader, Gateway
from tests.bot.customer import Customer, bind_free_customer, in_thread
from tests.live_crm import LiveCrm

SUPERVISOR = ("KN1031", "demo1234")  # 曹丽华, supervisor of the general desk


@pytest.fixture(scope="module")
def agent(crm: LiveCrm) -> Iterator[httpx.Client]:
    """A supervisor (may act on every ticket), logged in."""
    client = httpx.Client(base_url=f"{crm.url}/api/v1/agent", timeout=15)
    employee_no, password = SUPERVISOR
    response = client.post(
        "/auth/login", json={"employee_no": employee_no, "password": password}
    )
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    yield client
    client.close()


@pytest.fixture(scope="module")
def db(crm: LiveCrm) -> Iterator[Engine]:
    """The live CRM's database (binding a chat to a customer, reading notices)."""
    engine = create_engine(crm.database_url)
    yield engine
    engine.dispose()


def _ticket(crm_reader: CrmReader, customer_id: int, conversation_id: int) -> str:
    """A complaint as the bot's form opens it; its number."""
    opened = crm_reader.http.post(
        "/tickets",
        json={
            "customer_id": customer_id,
            "category": "service_attitude",
            "description": "客服电话一直打不通",
            "conversation_id": conversation_id,
            "channel": "web",
        },
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["ticket_no"])


def _ticket_id(db: Engine, ticket_no: str) -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM tickets WHERE ticket_no = :n"), {"n": ticket_no}
            ).scalar_one()
        )


def _notices(crm_reader: CrmReader, customer_id: int) -> list[dict[str, Any]]:
    response = crm_reader.http.get(f"/customers/{customer_id}/notices")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _delivered(crm_reader: CrmReader, customer_id: int) -> list[dict[str, Any]]:
    """The notices once all are marked delivered (the CRM marks them right after
    the gateway answered, a moment after the customer saw them)."""
    deadline = time.monotonic() + 10
    while True:
        notices = _notices(crm_reader, customer_id)
        if all(n["delivered_at"] is not None for n in notices):
            return notices
        assert time.monotonic() < deadline, notices
        time.sleep(0.05)


def _attempted(db: Engine, notice_id: int) -> Any:
    with db.connect() as conn:
        return conn.execute(
            text("SELECT attempted_at FROM ticket_notices WHERE id = :id"),
            {"id": notice_id},
        ).scalar_one()


@in_thread
async def test_a_connected_customer_gets_the_notice_and_a_gone_one_later(
    gateway: Gateway, agent: httpx.Client, crm_reader: CrmReader, db: Engine
) -> None:
    customer = Customer(gateway.url)
    await customer.connect()
    try:
        await customer.say("你好")
        await customer.next()
        conversation_id = crm_reader.conversation_of("web", str(customer.session_id))
        customer_id = bind_free_customer(db, conversation_id)
        ticket_no = _ticket(crm_reader, customer_id, conversation_id)
        ticket_id = _ticket_id(db, ticket_no)

        acknowledged = agent.post(
            f"/tickets/{ticket_id}/acknowledge", json={"note": "专人已在核查"}
        )
        assert acknowledged.status_code == 200, acknowledged.text
        # the verb's commit kicks the delivery: well within one sweep interval
        notice = await customer.next(timeout=4)
        assert notice["metadata"]["sender"] == "system"
        assert notice["text"].startswith(f"您的投诉 {ticket_no} 已于")
        assert "确认受理：专人已在核查" in notice["text"]
        message_id = notice["metadata"]["message_id"]
        assert isinstance(message_id, int)

        [recorded] = [
            m for m in crm_reader.transcript(conversation_id) if m["id"] == message_id
        ]
        assert recorded["sender"] == "system" and recorded["text"] == notice["text"]
        [stored] = _delivered(crm_reader, customer_id)
        assert stored["channel"] == "web"
    finally:
        await customer.close()

    # nobody is connected: the gateway says so, the notice waits
    resolved = agent.post(
        f"/tickets/{ticket_id}/resolve",
        json={"outcome": "已向您致歉并加强培训", "remedy": "apology"},
    )
    assert resolved.status_code == 200, resolved.text
    pending = _notices(crm_reader, customer_id)[-1]
    deadline = time.monotonic() + 10
    while _attempted(db, pending["id"]) is None:
        assert time.monotonic() < deadline, "the resolution notice was never tried"
        time.sleep(0.1)
    assert _notices(crm_reader, customer_id)[-1]["delivered_at"] is None

    # the customer opens the page again: the next pass delivers it
    back = Customer(gateway.url)
    await back.connect(customer.session_id)
    try:
        late = await back.next(timeout=15)
        assert late["metadata"]["sender"] == "system"
        assert f"您的投诉 {ticket_no} 已于" in late["text"]
        assert "处理完毕：已向您致歉并加强培训（我们向您郑重致歉）" in late["text"]
        assert _delivered(crm_reader, customer_id)[-1]["channel"] == "web"
    finally:
        await back.close()


def test_the_gateway_answers_not_delivered_without_a_socket(
    gateway: Gateway, crm: LiveCrm
) -> None:
    event = {
        "type": "notice",
        "conversation_id": 999999,
        "channel": "web",
        "external_id": "nobody-is-here-0001",
        "notice": {"id": 1, "ticket_no": "T0", "kind": "update", "text": "进展"},
    }
    headers = {"Authorization": f"Bearer {crm.token}"}
    answer = httpx.post(
        f"{gateway.url}/internal/events", json=event, headers=headers, timeout=10
    )
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "not_delivered",
        "delivered": False,
        "message_id": None,
        "reason": "not_connected",
    }
    # a channel the gateway cannot push to
    answer = httpx.post(
        f"{gateway.url}/internal/events",
        json={**event, "channel": "rest"},
        headers=headers,
        timeout=10,
    )
    assert answer.json()["reason"] == "channel_off"
    refused = httpx.post(f"{gateway.url}/internal/events", json=event, timeout=10)
    assert refused.status_code == 401
