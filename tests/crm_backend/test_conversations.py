"""Conversations: the gateway's per-message call, transcript, close, agent reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.conversations import service, views
from crm_backend.conversations.schemas import CustomerMessageCreate
from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.models import (
    Conversation,
    CustomerScore,
    CustomerSignal,
    EscalationEvent,
    Message,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    Channel,
    ConversationStatus,
    EscalationStatus,
    Presence,
    Sender,
    SignalKind,
    VerificationLevel,
)
from tests.factories import (
    login,
    make_agent,
    make_conversation,
    make_customer,
    make_escalation,
    make_message,
    make_team,
)

URL = "/api/v1/service/conversations"
AGENT_URL = "/api/v1/agent/conversations"


def _send(client, headers, **body):  # type: ignore[no-untyped-def]
    payload = {"channel": "web", "external_id": "visitor-1", "text": "你好", **body}
    return client.post(f"{URL}/messages", json=payload, headers=headers)


def _count(session: Session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# ---- the gateway's call ------------------------------------------------------


def test_first_message_opens_a_bot_conversation(client, service_headers, session):
    response = _send(client, service_headers, metadata={"ip": "1.2.3.4"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "bot"
    assert body["verification_level"] == "none"
    assert body["customer_id"] is None
    assert body["duplicate"] is False
    assert body["assigned_agent"] is None
    conversation = session.get(Conversation, body["conversation_id"])
    assert conversation is not None
    assert conversation.channel == Channel.web
    assert conversation.last_customer_message_at is not None
    message = session.get(Message, body["message_id"])
    assert message is not None
    assert message.sender == Sender.customer
    assert message.payload == {"metadata": {"ip": "1.2.3.4"}}


def test_next_message_reuses_the_open_conversation(client, service_headers):
    first = _send(client, service_headers).json()
    second = _send(client, service_headers, text="我的保单").json()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["message_id"] != first["message_id"]
    other = _send(client, service_headers, external_id="visitor-2").json()
    assert other["conversation_id"] != first["conversation_id"]


def test_a_closed_conversation_is_not_reused(client, service_headers, session):
    first = _send(client, service_headers).json()
    service.close(session, conversation_id=first["conversation_id"])
    again = _send(client, service_headers).json()
    assert again["conversation_id"] != first["conversation_id"]
    assert again["status"] == "bot"


def test_bound_wechat_openid_starts_verified(client, service_headers, session):
    customer = make_customer(session, wechat_openid="oWx-bound-1")
    body = _send(client, service_headers, channel="wechat", external_id="oWx-bound-1")
    assert body.json()["customer_id"] == customer.id
    assert body.json()["verification_level"] == "verified"
    conversation = session.get(Conversation, body.json()["conversation_id"])
    assert conversation is not None and conversation.verified_at is not None
    unbound = _send(client, service_headers, channel="wechat", external_id="oWx-new")
    assert unbound.json()["customer_id"] is None
    assert unbound.json()["verification_level"] == "none"


def test_customer_id_from_the_gateway_is_attached_unverified(
    client, service_headers, session
):
    customer = make_customer(session)
    body = _send(client, service_headers, customer_id=customer.id).json()
    assert body["customer_id"] == customer.id
    assert body["verification_level"] == "none"
    other = make_customer(session)
    mismatch = _send(client, service_headers, customer_id=other.id)
    assert mismatch.status_code == 409
    assert mismatch.json()["error"]["code"] == "customer_mismatch"
    missing = _send(client, service_headers, external_id="v9", customer_id=999_999)
    assert missing.status_code == 404


def test_same_external_msg_id_is_recorded_once(client, service_headers, session):
    first = _send(client, service_headers, external_msg_id="m-1").json()
    again = _send(client, service_headers, external_msg_id="m-1").json()
    assert again["duplicate"] is True
    assert again["message_id"] == first["message_id"]
    assert _count(session, Message, Message.external_msg_id == "m-1") == 1
    other = _send(client, service_headers, external_msg_id="m-2").json()
    assert other["duplicate"] is False


def test_concurrent_duplicate_is_caught_by_the_constraint(
    session, monkeypatch: pytest.MonkeyPatch
):
    data = CustomerMessageCreate(
        channel=Channel.wechat, external_id="o-race", text="在吗", external_msg_id="r1"
    )
    first = service.record_customer_message(session, message_in=data)
    real = service.find_by_external_msg_id
    calls: list[int] = []

    def blind_first_look(session, *, conversation_id, external_msg_id):  # type: ignore[no-untyped-def]
        # The racing request did not see the row on its first look.
        calls.append(conversation_id)
        if len(calls) == 1:
            return None
        return real(
            session, conversation_id=conversation_id, external_msg_id=external_msg_id
        )

    monkeypatch.setattr(service, "find_by_external_msg_id", blind_first_look)
    second = service.record_customer_message(session, message_in=data)
    assert second.duplicate is True
    assert second.message.id == first.message.id
    assert len(calls) == 2
    # the request's transaction is still usable after the failed insert
    assert _count(session, Message, Message.external_msg_id == "r1") == 1
    third = service.record_customer_message(
        session, message_in=data.model_copy(update={"external_msg_id": "r2"})
    )
    assert third.duplicate is False


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "text_empty"), ("   \n", "text_empty"), ("好" * 2001, "text_too_long")],
)
def test_bad_text_is_refused_with_a_clear_422(client, service_headers, text, code):
    response = _send(client, service_headers, text=text)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    if code == "text_too_long":
        assert response.json()["error"]["max_length"] == 2000


def test_text_of_exactly_2000_characters_is_accepted(client, service_headers):
    assert _send(client, service_headers, text="好" * 2000).status_code == 200


def test_html_is_stored_and_returned_literally(client, service_headers, session):
    html = "<script>alert('x')</script><b>我要投诉</b> &amp;"
    body = _send(client, service_headers, text=html).json()
    message = session.get(Message, body["message_id"])
    assert message is not None and message.text == html
    transcript = client.get(
        f"{URL}/{body['conversation_id']}/messages", headers=service_headers
    ).json()
    assert transcript["items"][0]["text"] == html


def test_strongly_negative_message_records_a_churn_signal_once(
    client, service_headers, session
):
    customer = make_customer(session)
    body = _send(client, service_headers, customer_id=customer.id, sentiment=-0.8)
    assert body.status_code == 200
    _send(client, service_headers, customer_id=customer.id, sentiment=-0.9)
    signals = session.scalars(
        select(CustomerSignal).where(CustomerSignal.customer_id == customer.id)
    ).all()
    assert [s.kind for s in signals] == [SignalKind.negative_chat]
    assert signals[0].conversation_id == body.json()["conversation_id"]
    score = session.get(CustomerScore, customer.id)
    assert score is not None
    assert "negative_chats" in [r["code"] for r in score.churn_reasons]


def test_mild_or_anonymous_negativity_records_no_signal(
    client, service_headers, session
):
    customer = make_customer(session)
    _send(client, service_headers, customer_id=customer.id, sentiment=-0.5)
    _send(client, service_headers, external_id="anon", sentiment=-1.0)
    assert _count(session, CustomerSignal) == 0


def test_status_and_agent_are_reported_while_an_agent_holds_it(
    client, service_headers, session
):
    agent = make_agent(session, name="赵强")
    conversation = make_conversation(
        session, status=ConversationStatus.agent, agent=agent
    )
    body = _send(client, service_headers, external_id=conversation.external_id).json()
    assert body["conversation_id"] == conversation.id
    assert body["status"] == "agent"
    assert body["assigned_agent"]["name"] == "赵强"
    assert body["assigned_agent"]["employee_no"] == agent.employee_no


def test_service_api_requires_the_token(client):
    assert _send(client, {}).status_code == 401


# ---- bot replies, reads, close -----------------------------------------------


def test_bot_and_system_messages_are_recorded(client, service_headers, session):
    conversation = make_conversation(session)
    before = conversation.last_message_at
    response = client.post(
        f"{URL}/{conversation.id}/messages",
        json={
            "sender": "bot",
            "text": "您好，请问有什么可以帮您？",
            "payload": {"b": 1},
        },
        headers=service_headers,
    )
    assert response.status_code == 201
    assert response.json()["sender"] == "bot"
    assert response.json()["payload"] == {"b": 1}
    system = client.post(
        f"{URL}/{conversation.id}/messages",
        json={"sender": "system", "text": "会话已转人工"},
        headers=service_headers,
    )
    assert system.status_code == 201
    session.refresh(conversation)
    assert conversation.last_message_at >= before


def test_bot_message_refusals(client, service_headers, session):
    conversation = make_conversation(session)
    post = client.post
    url = f"{URL}/{conversation.id}/messages"
    customer = post(
        url, json={"sender": "customer", "text": "x"}, headers=service_headers
    )
    assert customer.status_code == 422
    empty = post(url, json={"sender": "bot", "text": " "}, headers=service_headers)
    assert empty.json()["error"]["code"] == "text_empty"
    missing = post(
        f"{URL}/999999/messages",
        json={"sender": "bot", "text": "x"},
        headers=service_headers,
    )
    assert missing.status_code == 404
    service.close(session, conversation_id=conversation.id)
    closed = post(url, json={"sender": "bot", "text": "再见"}, headers=service_headers)
    assert closed.status_code == 409


def test_get_conversation_masks_the_customer_name(client, service_headers, session):
    agent = make_agent(session, name="孙丽")
    customer = make_customer(session, name="欧阳娜娜")
    conversation = make_conversation(
        session, customer=customer, status=ConversationStatus.queued, agent=agent
    )
    escalation = make_escalation(session, conversation=conversation)
    body = client.get(f"{URL}/{conversation.id}", headers=service_headers).json()
    assert body["customer_name"] == "欧***"
    assert body["status"] == "queued"
    assert body["assigned_agent"]["name"] == "孙丽"
    assert body["open_escalation_id"] == escalation.id
    missing = client.get(f"{URL}/999999", headers=service_headers)
    assert missing.status_code == 404


def test_transcript_pages_in_order_without_private_notes(
    client, service_headers, session
):
    conversation = make_conversation(session)
    ids = [
        make_message(session, conversation=conversation, text=f"m{i}").id
        for i in range(4)
    ]
    note = make_message(session, conversation=conversation, text="内部备注")
    note.private = True
    session.flush()
    url = f"{URL}/{conversation.id}/messages"
    page = client.get(url, params={"limit": 2}, headers=service_headers).json()
    assert [m["id"] for m in page["items"]] == ids[:2]
    rest = client.get(
        url, params={"after_id": page["next_after_id"]}, headers=service_headers
    ).json()
    assert [m["text"] for m in rest["items"]] == ["m2", "m3"]
    assert (
        client.get(url, params={"limit": 0}, headers=service_headers).status_code == 422
    )
    empty = client.get(url, params={"after_id": note.id}, headers=service_headers)
    assert empty.json() == {"items": [], "next_after_id": None}
    assert (
        client.get(f"{URL}/999999/messages", headers=service_headers).status_code == 404
    )


def test_close_ends_the_conversation_and_its_escalation(
    client, service_headers, session
):
    conversation = make_conversation(session, status=ConversationStatus.queued)
    escalation = make_escalation(session, conversation=conversation)
    response = client.post(f"{URL}/{conversation.id}/close", headers=service_headers)
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None
    assert response.json()["open_escalation_id"] is None
    session.refresh(escalation)
    assert escalation.status == EscalationStatus.closed
    assert escalation.outcome == "conversation_closed"
    kinds = session.scalars(
        select(EscalationEvent.kind).where(
            EscalationEvent.escalation_id == escalation.id
        )
    ).all()
    assert kinds == ["closed"]
    again = client.post(f"{URL}/{conversation.id}/close", headers=service_headers)
    assert again.status_code == 200
    assert again.json()["closed_at"] == response.json()["closed_at"]
    assert (
        client.post(f"{URL}/999999/close", headers=service_headers).status_code == 404
    )


# ---- agent reads -------------------------------------------------------------


def test_agent_reads_a_customer_conversation_by_access_rules(client, session):
    team = make_team(session)
    other_team = make_team(session)
    mine = make_agent(session, team=team, name="陈晨")
    teammate = make_agent(session, team=team)
    stranger = make_agent(session, team=other_team)
    boss = make_agent(session, role=AgentRole.supervisor)
    customer = make_customer(session, name="刘洋", agent=mine)
    conversation = make_conversation(session, customer=customer)
    make_message(session, conversation=conversation, text="<i>你好</i>")
    for agent in (mine, teammate, boss):
        headers = login(client, agent)
        body = client.get(f"{AGENT_URL}/{conversation.id}", headers=headers).json()
        assert body["customer_name"] == "刘洋"
        messages = client.get(
            f"{AGENT_URL}/{conversation.id}/messages", headers=headers
        )
        assert messages.json()["items"][0]["text"] == "<i>你好</i>"
    headers = login(client, stranger)
    assert (
        client.get(f"{AGENT_URL}/{conversation.id}", headers=headers).status_code == 403
    )
    denied = client.get(f"{AGENT_URL}/{conversation.id}/messages", headers=headers)
    assert denied.status_code == 403
    assert client.get(f"{AGENT_URL}/999999", headers=headers).status_code == 404
    assert client.get(f"{AGENT_URL}/{conversation.id}").status_code == 401


def test_agent_sees_private_notes(client, session):
    agent = make_agent(session)
    conversation = make_conversation(
        session, status=ConversationStatus.agent, agent=agent
    )
    note = make_message(session, conversation=conversation, sender=Sender.agent)
    note.private = True
    session.flush()
    body = client.get(
        f"{AGENT_URL}/{conversation.id}/messages", headers=login(client, agent)
    ).json()
    assert [m["private"] for m in body["items"]] == [True]


def test_unknown_customer_conversation_is_for_holder_team_or_target(session):
    team = make_team(session)
    other = make_team(session)
    holder = make_agent(session, team=team)
    teammate = make_agent(session, team=team)
    stranger = make_agent(session, team=other)
    loner = make_agent(session)
    held = make_conversation(session, status=ConversationStatus.agent, agent=holder)
    service.ensure_can_access(session, holder, held)
    service.ensure_can_access(session, teammate, held)
    for agent in (stranger, loner):
        with pytest.raises(Forbidden):
            service.ensure_can_access(session, agent, held)
    queued = make_conversation(session, status=ConversationStatus.queued)
    with pytest.raises(Forbidden):
        service.ensure_can_access(session, stranger, queued)
    make_escalation(session, conversation=queued, team=other)
    service.ensure_can_access(session, stranger, queued)
    with pytest.raises(Forbidden):
        service.ensure_can_access(session, holder, queued)
    targeted = make_conversation(session, status=ConversationStatus.queued)
    make_escalation(session, conversation=targeted, agent=loner)
    service.ensure_can_access(session, loner, targeted)


def test_customer_history_newest_first_across_channels(client, session):
    team = make_team(session)
    agent = make_agent(session, team=team)
    stranger = make_agent(session, team=make_team(session))
    customer = make_customer(session, agent=agent)
    web = make_conversation(session, customer=customer, channel=Channel.web)
    wechat = make_conversation(session, customer=customer, channel=Channel.wechat)
    web.last_message_at = utcnow() - timedelta(days=2)
    make_message(session, conversation=wechat)
    make_message(session, conversation=wechat, sender=Sender.bot)
    make_conversation(session, customer=make_customer(session))
    session.flush()
    url = f"/api/v1/agent/customers/{customer.id}/conversations"
    body = client.get(url, headers=login(client, agent)).json()
    assert body["total"] == 2
    assert [c["id"] for c in body["items"]] == [wechat.id, web.id]
    assert [c["message_count"] for c in body["items"]] == [2, 0]
    assert [c["channel"] for c in body["items"]] == ["wechat", "web"]
    assert client.get(url, headers=login(client, stranger)).status_code == 403
    boss = make_agent(session, role=AgentRole.supervisor)
    missing = client.get(
        "/api/v1/agent/customers/999999/conversations", headers=login(client, boss)
    )
    assert missing.status_code == 404


# ---- service functions directly ------------------------------------------------


def test_service_errors(session):
    with pytest.raises(NotFound):
        service.get(session, conversation_id=999_999)
    with pytest.raises(Unprocessable):
        service.check_text("")
    with pytest.raises(Unprocessable):
        service.check_text("x" * 11, max_length=10)
    assert service.check_text(" <b>x</b> ") == " <b>x</b> "
    with pytest.raises(NotFound):
        service.list_for_customer(session, customer_id=999_999)
    conversation = make_conversation(session, customer=make_customer(session))
    with pytest.raises(Conflict):
        service.open_or_reuse(
            session,
            channel=conversation.channel,
            external_id=conversation.external_id,
            customer_id=make_customer(session).id,
        )


def test_find_open_and_open_escalation_id(session):
    assert service.find_open(session, channel=Channel.web, external_id="none") is None
    conversation = make_conversation(session)
    found = service.find_open(
        session, channel=Channel.web, external_id=conversation.external_id
    )
    assert found is conversation
    assert service.open_escalation_id(session, conversation_id=conversation.id) is None
    closed = make_escalation(
        session, conversation=conversation, status=EscalationStatus.closed
    )
    assert closed.id
    assert service.open_escalation_id(session, conversation_id=conversation.id) is None
    agent = make_agent(session, presence=Presence.online)
    assert views.agent_ref(session, agent.id).name == agent.name  # type: ignore[union-attr]
    assert views.agent_ref(session, None) is None
    assert views.to_read(session, conversation).verification_level == (
        VerificationLevel.none
    )


# ---- the bot's get-or-open ----------------------------------------------------


def test_open_conversation_gets_or_opens_for_a_channel_user(
    client, service_headers, session
):
    opened = client.post(
        URL, json={"channel": "rest", "external_id": "rasa-1"}, headers=service_headers
    )
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["status"] == "bot"
    assert body["verification_level"] == "none"
    assert body["customer_id"] is None
    again = client.post(
        URL, json={"channel": "rest", "external_id": "rasa-1"}, headers=service_headers
    ).json()
    assert again["id"] == body["id"]
    recorded = _send(client, service_headers, channel="rest", external_id="rasa-1")
    assert recorded.json()["conversation_id"] == body["id"]
    service.close(session, conversation_id=body["id"])
    reopened = client.post(
        URL, json={"channel": "rest", "external_id": "rasa-1"}, headers=service_headers
    ).json()
    assert reopened["id"] != body["id"]


def test_open_conversation_refusals(client, service_headers):
    bad_channel = client.post(
        URL, json={"channel": "fax", "external_id": "x"}, headers=service_headers
    )
    assert bad_channel.status_code == 422
    empty = client.post(
        URL, json={"channel": "rest", "external_id": ""}, headers=service_headers
    )
    assert empty.status_code == 422
    anonymous = client.post(URL, json={"channel": "rest", "external_id": "x"})
    assert anonymous.status_code in (401, 403)
