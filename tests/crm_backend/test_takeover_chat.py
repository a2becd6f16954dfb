"""The agent's chat: replies (holder only, text kept as typed), private notes,
canned replies with variables, the gateway's understanding record, and the events
the gateway receives (a real HTTP receiver on loopback)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_backend.conversations import canned
from crm_backend.core.gateway import GatewayClient
from crm_backend.main import create_app
from crm_backend.models import CannedReply, CustomerSignal, Message
from crm_backend.models.enums import Gender, SignalKind
from tests.crm_backend.takeover import (
    AGENT_URL,
    SERVICE_URL,
    bearer,
    escalate,
    gateway_receiver,
    make_desk,
)
from tests.factories import make_agent, make_conversation, make_message, make_team

XSS = "<img src=x onerror=alert(1)>"


def _held(client, session, service_headers, **desk_kw):  # type: ignore[no-untyped-def]
    desk = make_desk(session, **desk_kw)
    body = escalate(client, service_headers, desk.conversation)
    headers = bearer(client, desk.agents[0])
    accepted = client.post(
        f"{AGENT_URL}/escalations/{body['id']}/accept", headers=headers
    )
    assert accepted.status_code == 200
    return desk, body["id"], headers


def _send(client, headers, conversation_id: int, text: str, kind: str = "messages"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{AGENT_URL}/conversations/{conversation_id}/{kind}",
        json={"text": text},
        headers=headers,
    )


# ---- replies -----------------------------------------------------------------


def test_the_holder_writes_and_html_is_kept_as_text(client, session, service_headers):
    desk, _, headers = _held(client, session, service_headers)
    response = _send(client, headers, desk.conversation.id, XSS)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sender"] == "agent" and body["text"] == XSS
    assert body["agent_id"] == desk.agents[0].id and body["private"] is False
    stored = session.get(Message, body["id"])
    assert stored is not None and stored.text == XSS
    transcript = client.get(
        f"{SERVICE_URL}/conversations/{desk.conversation.id}/messages",
        headers=service_headers,
    ).json()["items"]
    assert transcript[-1]["text"] == XSS


def test_only_the_holder_writes_while_they_hold_it(client, session, service_headers):
    desk, escalation_id, headers = _held(client, session, service_headers)
    mate = bearer(client, desk.agents[1])
    refused = _send(client, mate, desk.conversation.id, "我来回答")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_holder"
    outsider = make_agent(session, team=make_team(session))
    assert (
        _send(client, bearer(client, outsider), desk.conversation.id, "x").status_code
        == 403
    )
    for bad in ("", "   ", "长" * 2001):
        assert _send(client, headers, desk.conversation.id, bad).status_code == 422
    assert _send(client, headers, 999_999, "x").status_code == 404
    client.post(
        f"{AGENT_URL}/escalations/{escalation_id}/resolve",
        json={"outcome": "resolved"},
        headers=headers,
    )
    after = _send(client, headers, desk.conversation.id, "还有问题吗")
    assert after.status_code == 409
    assert after.json()["error"]["code"] == "not_with_agent"
    queued = make_conversation(session)
    offer = escalate(client, service_headers, queued)
    assert offer["offered_agent"]["id"] == desk.agents[0].id
    waiting = _send(client, headers, queued.id, "你好")
    assert waiting.status_code == 409  # offered is not accepted


# ---- private notes -------------------------------------------------------------


def test_notes_are_private(client, session, service_headers):
    desk, _, headers = _held(client, session, service_headers)
    mate = bearer(client, desk.agents[1])
    response = _send(client, mate, desk.conversation.id, "客户上月也投诉过", "notes")
    assert response.status_code == 201, response.text
    assert response.json()["private"] is True
    public = client.get(
        f"{SERVICE_URL}/conversations/{desk.conversation.id}/messages",
        headers=service_headers,
    ).json()["items"]
    assert all("投诉过" not in m["text"] for m in public)
    internal = client.get(
        f"{AGENT_URL}/conversations/{desk.conversation.id}/messages", headers=headers
    ).json()["items"]
    assert internal[-1]["text"] == "客户上月也投诉过"
    outsider = make_agent(session, team=make_team(session))
    refused = _send(
        client, bearer(client, outsider), desk.conversation.id, "看看", "notes"
    )
    assert refused.status_code == 403
    assert _send(client, headers, desk.conversation.id, "", "notes").status_code == 422


# ---- canned replies --------------------------------------------------------------


def test_canned_replies_are_seeded_once(session):
    vip = make_team(session, code="vip", name="VIP客户服务部", topics=["vip"])
    added = canned.seed(session)
    assert 15 <= added <= 20
    assert canned.seed(session) == 0
    vip_rows = session.scalar(select(func.count()).where(CannedReply.team_id == vip.id))
    assert vip_rows == sum(1 for r in canned.DEFAULT_REPLIES if r[0] == "vip")


def test_canned_replies_are_searched_and_filled(client, session, service_headers):
    vip = make_team(session, code="vip", name="VIP客户服务部", topics=["vip"])
    canned.seed(session)
    desk = make_desk(session, customer_name="欧阳娜娜")
    desk.customer.gender = Gender.female
    session.flush()
    escalate(client, service_headers, desk.conversation)
    agent = desk.agents[0]
    url = f"{AGENT_URL}/conversations/{desk.conversation.id}/canned-replies"
    headers = bearer(client, agent)
    everything = client.get(url, headers=headers).json()["items"]
    assert {r["team_id"] for r in everything} == {None}  # not the VIP desk's
    hello = client.get(url, params={"q": "hi"}, headers=headers).json()["items"][0]
    assert hello["shortcut"] == "hi"
    assert hello["text"] == (
        f"欧阳女士您好，我是客服王芳（工号{agent.employee_no}），很高兴为您服务，"
        "请问有什么可以帮您？"
    )
    assert "{customer_name}" in hello["template"]
    by_word = client.get(url, params={"q": "宽限期"}, headers=headers).json()["items"]
    assert [r["shortcut"] for r in by_word] == ["grace"]
    assert client.get(url, params={"q": "无此内容"}, headers=headers).json() == {
        "items": []
    }
    vip_agent = make_agent(session, team=vip, name="林嘉欣")
    vip_conv = make_conversation(session)  # an unknown customer
    vip_url = f"{AGENT_URL}/conversations/{vip_conv.id}/canned-replies"
    escalate(client, service_headers, vip_conv, topic="vip")
    vip_rows = client.get(
        vip_url, params={"q": "vip"}, headers=bearer(client, vip_agent)
    ).json()["items"]
    assert vip_rows[0]["team_id"] == vip.id
    assert vip_rows[0]["text"].startswith("尊敬的客户")
    outsider = make_agent(session, team=make_team(session))
    assert client.get(url, headers=bearer(client, outsider)).status_code == 403


def test_fill_replaces_only_the_known_variables():
    assert (
        canned.fill("{customer_name}，{x}{agent_name}", {"customer_name": "张先生"})
        == "张先生，{x}{agent_name}"
    )


# ---- understanding (the gateway's record after a Rasa turn) ----------------------


def test_understanding_is_recorded_and_raises_the_churn_signal(
    client, session, service_headers
):
    desk = make_desk(session)
    message = make_message(session, conversation=desk.conversation, text="太差了")
    url = (
        f"{SERVICE_URL}/conversations/{desk.conversation.id}"
        f"/messages/{message.id}/understanding"
    )
    body = {"intent": "complain", "intent_confidence": 0.93, "sentiment": -0.8}
    response = client.post(url, json=body, headers=service_headers)
    assert response.status_code == 200, response.text
    assert response.json()["intent"] == "complain"
    assert response.json()["intent_confidence"] == 0.93
    assert response.json()["sentiment"] == -0.8
    session.refresh(message)
    assert message.understood_at is not None
    signals = session.scalars(
        select(CustomerSignal).where(CustomerSignal.customer_id == desk.customer.id)
    ).all()
    assert [s.kind for s in signals] == [SignalKind.negative_chat]
    # recorded again (a retry): still one signal per conversation
    assert client.post(url, json=body, headers=service_headers).status_code == 200
    assert (
        session.scalar(
            select(func.count()).where(CustomerSignal.customer_id == desk.customer.id)
        )
        == 1
    )


def test_understanding_refusals(client, session, service_headers):
    desk = make_desk(session)
    mild = make_message(session, conversation=desk.conversation, text="好的")
    bot = make_message(session, conversation=desk.conversation, sender="bot")
    other = make_message(session, conversation=make_conversation(session))
    base = f"{SERVICE_URL}/conversations/{desk.conversation.id}/messages"
    ok = client.post(
        f"{base}/{mild.id}/understanding",
        json={"intent": "affirm", "intent_confidence": 0.99, "sentiment": 0.2},
        headers=service_headers,
    )
    assert ok.status_code == 200
    assert session.scalar(select(func.count()).select_from(CustomerSignal)) == 0
    not_customer = client.post(
        f"{base}/{bot.id}/understanding", json={}, headers=service_headers
    )
    assert not_customer.status_code == 409
    assert not_customer.json()["error"]["code"] == "not_customer_message"
    elsewhere = client.post(
        f"{base}/{other.id}/understanding", json={}, headers=service_headers
    )
    assert elsewhere.status_code == 404
    for bad in ({"sentiment": -1.5}, {"intent_confidence": 2}):
        assert (
            client.post(
                f"{base}/{mild.id}/understanding", json=bad, headers=service_headers
            ).status_code
            == 422
        )
    assert client.post(f"{base}/{mild.id}/understanding", json={}).status_code == 401


# ---- events to the gateway ------------------------------------------------------


def test_the_gateway_receives_notices_replies_and_the_handback(
    client, session, service_headers, settings
):
    with gateway_receiver() as gateway:
        settings.gateway_url = gateway.url
        desk, escalation_id, headers = _held(client, session, service_headers)
        agent = desk.agents[0]
        joined = gateway.wait_for(1)
        assert len(joined) == 1
        assert gateway.received[0].path == "/internal/events"
        assert gateway.received[0].authorization == "Bearer test-service-token"
        event = joined[0]
        assert event["type"] == "message"
        assert event["conversation_id"] == desk.conversation.id
        assert event["channel"] == "web"
        assert event["external_id"] == desk.conversation.external_id
        assert event["message"]["sender"] == "system"
        assert event["message"]["text"] == (
            f"客服王芳（工号{agent.employee_no}）已接入，为您服务。"
        )
        assert event["message"]["created_at"].endswith("Z")
        assert event["message"]["agent"] is None

        _send(client, headers, desk.conversation.id, XSS)
        _send(client, headers, desk.conversation.id, "内部备注", "notes")
        reply = gateway.wait_for(2)[1]
        assert reply["message"]["sender"] == "agent"
        assert reply["message"]["text"] == XSS
        assert reply["message"]["agent"] == {
            "id": agent.id,
            "name": "王芳",
            "employee_no": agent.employee_no,
        }
        client.post(
            f"{AGENT_URL}/escalations/{escalation_id}/resolve",
            json={"outcome": "resolved"},
            headers=headers,
        )
        events = gateway.wait_for(4)
        assert len(events) == 4  # the private note was never sent
        notice, handback = events[2:]
        assert notice["message"]["sender"] == "system"
        assert handback == {
            "type": "handback",
            "conversation_id": desk.conversation.id,
            "channel": "web",
            "external_id": desk.conversation.external_id,
            "escalation_id": escalation_id,
            "agent": {"id": agent.id, "name": "王芳", "employee_no": agent.employee_no},
        }


def test_a_failing_gateway_does_not_fail_the_request(
    client, session, service_headers, settings
):
    with gateway_receiver() as gateway:
        gateway.status = 500
        settings.gateway_url = gateway.url
        desk, _, headers = _held(client, session, service_headers)
        assert _send(client, headers, desk.conversation.id, "你好").status_code == 201
        assert len(gateway.wait_for(2)) == 2
    # a gateway that is not there at all
    settings.gateway_url = "http://127.0.0.1:9"
    assert _send(client, headers, desk.conversation.id, "还在吗").status_code == 201


def test_no_gateway_url_sends_nothing(client, session, service_headers, settings):
    with gateway_receiver() as gateway:
        settings.gateway_url = ""
        desk, _, headers = _held(client, session, service_headers)
        _send(client, headers, desk.conversation.id, "你好")
        assert gateway.wait_for(1, timeout=0.3) == []


def test_a_failed_request_sends_nothing(client, session, service_headers, settings):
    with gateway_receiver() as gateway:
        settings.gateway_url = gateway.url
        desk = make_desk(session)
        body = escalate(client, service_headers, desk.conversation)
        first, second = (bearer(client, a) for a in desk.agents)
        client.post(f"{AGENT_URL}/escalations/{body['id']}/accept", headers=first)
        gateway.wait_for(1)
        lost = client.post(
            f"{AGENT_URL}/escalations/{body['id']}/accept", headers=second
        )
        assert lost.status_code == 409
        assert len(gateway.wait_for(2, timeout=0.3)) == 1


def test_events_share_one_client_that_the_app_closes(settings):
    event = {"type": "message", "conversation_id": 1}
    with gateway_receiver() as gateway:
        settings.gateway_url = gateway.url
        app = create_app(settings)
        with TestClient(app):
            shared: GatewayClient = app.state.gateway
            assert not shared.is_open  # opened on first use only
            assert shared.post_events([event], settings) == 1
            http = shared._http
            assert shared.post_events([event, event], settings) == 2
            assert shared._http is http  # one keep-alive client, not one per batch
        assert not shared.is_open
        assert len(gateway.wait_for(3)) == 3


def test_no_gateway_url_opens_no_client(settings):
    shared = GatewayClient()
    settings.gateway_url = ""
    assert shared.post_events([{"type": "message"}], settings) == 0
    assert not shared.is_open
    shared.close()  # closing an unopened client is fine
