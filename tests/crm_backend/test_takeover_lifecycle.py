"""The escalation lifecycle through the agent API: offer, accept, decline, transfer,
resolve, close; each verb's success and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.models import Conversation, Escalation, EscalationEvent, Message
from crm_backend.models.enums import (
    AgentStatus,
    ConversationStatus,
    EscalationStatus,
    Presence,
    Sender,
)
from tests.crm_backend.takeover import (
    AGENT_URL,
    SERVICE_URL,
    bearer,
    escalate,
    make_desk,
    supervisor,
)
from tests.factories import make_agent, make_conversation, make_team


def _kinds(session: Session, escalation_id: int) -> list[str]:
    return list(
        session.scalars(
            select(EscalationEvent.kind)
            .where(EscalationEvent.escalation_id == escalation_id)
            .order_by(EscalationEvent.id)
        )
    )


def _messages(session: Session, conversation: Conversation) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id)
        )
    )


def _verb(client, headers, escalation_id: int, verb: str, body=None):  # type: ignore[no-untyped-def]
    return client.post(
        f"{AGENT_URL}/escalations/{escalation_id}/{verb}", json=body, headers=headers
    )


# ---- offer on escalate ---------------------------------------------------------


def test_escalation_is_offered_to_the_least_loaded_agent(
    client, session, service_headers
):
    desk = make_desk(session, agents=3)
    busy, idle, away = desk.agents
    away.presence = Presence.away
    session.add(
        Conversation(
            channel="web",
            external_id="held",
            status=ConversationStatus.agent,
            assigned_agent_id=busy.id,
        )
    )
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    assert body["offered_agent"]["id"] == idle.id
    escalation = session.get(Escalation, body["id"])
    assert escalation is not None
    assert escalation.offered_at is not None and escalation.offer_expires_at is not None
    assert (escalation.offer_expires_at - escalation.offered_at).total_seconds() == 60
    assert _kinds(session, escalation.id) == ["queued", "offered"]
    me = client.get(f"{AGENT_URL}/me", headers=bearer(client, idle)).json()
    assert me["load"] == 1  # the offer counts before it is accepted


def test_named_agent_gets_the_offer(client, session, service_headers):
    team = make_team(session, topics=["vip"])
    manager = make_agent(session, team=team, name="陈思远")
    desk = make_desk(session, servicing=manager)
    body = escalate(client, service_headers, desk.conversation)
    assert body["target_agent"]["id"] == manager.id
    assert body["offered_agent"]["id"] == manager.id
    assert "陈思远" in body["notice"]


def test_nobody_with_room_means_no_offer(client, session, service_headers):
    desk = make_desk(session, agents=1)
    desk.agents[0].capacity = 0
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    assert body["target_team"]["id"] == desk.team.id
    assert body["offered_agent"] is None
    assert body["callback"] is False


# ---- accept --------------------------------------------------------------------


def test_accept_takes_the_conversation_and_tells_the_customer(
    client, session, service_headers
):
    desk = make_desk(session)
    offered_to = desk.agents[0]
    body = escalate(client, service_headers, desk.conversation)
    # any member of the team may accept, not only the one it was offered to
    mate = desk.agents[1]
    assert body["offered_agent"]["id"] == offered_to.id
    response = _verb(client, bearer(client, mate), body["id"], "accept")
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert accepted["status"] == "active"
    assert accepted["assigned_agent"]["id"] == mate.id
    assert accepted["offered_agent"] is None
    session.refresh(desk.conversation)
    assert desk.conversation.status == ConversationStatus.agent
    assert desk.conversation.assigned_agent_id == mate.id
    escalation = session.get(Escalation, body["id"])
    assert escalation is not None and escalation.accepted_at is not None
    assert escalation.assigned_at == escalation.accepted_at
    assert _kinds(session, escalation.id)[-1] == "accepted"
    notice = _messages(session, desk.conversation)[-1]
    assert notice.sender == Sender.system
    assert notice.text == f"客服周婷（工号{mate.employee_no}）已接入，为您服务。"
    # the customer's conversation now reports the agent to the gateway
    status = client.get(
        f"{SERVICE_URL}/conversations/{desk.conversation.id}", headers=service_headers
    ).json()
    assert status["status"] == "agent"
    assert status["assigned_agent"]["name"] == "周婷"


def test_accept_refusals(client, session, service_headers):
    desk = make_desk(session)
    body = escalate(client, service_headers, desk.conversation)
    first, second = (bearer(client, a) for a in desk.agents)
    assert _verb(client, first, body["id"], "accept").status_code == 200
    again = _verb(client, second, body["id"], "accept")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_accepted"
    assert _verb(client, first, 999_999, "accept").status_code == 404
    outsider = make_agent(session, team=make_team(session))
    refused = _verb(client, bearer(client, outsider), body["id"], "accept")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_your_escalation"
    assert _verb(client, {}, body["id"], "accept").status_code == 401


def test_a_supervisor_may_accept_any_team_s_escalation(
    client, session, service_headers
):
    desk = make_desk(session)
    boss = supervisor(session, team=make_team(session, name="质检组"))
    body = escalate(client, service_headers, desk.conversation)
    response = _verb(client, bearer(client, boss), body["id"], "accept")
    assert response.status_code == 200
    assert response.json()["assigned_agent"]["id"] == boss.id


# ---- decline -------------------------------------------------------------------


def test_decline_moves_the_offer_to_the_next_agent(client, session, service_headers):
    desk = make_desk(session, agents=2)
    body = escalate(client, service_headers, desk.conversation)
    first, second = desk.agents
    assert body["offered_agent"]["id"] == first.id
    response = _verb(client, bearer(client, first), body["id"], "decline")
    assert response.status_code == 200, response.text
    assert response.json()["offered_agent"]["id"] == second.id
    assert _kinds(session, body["id"]) == ["queued", "offered", "declined", "offered"]
    # the last one declines too: nobody left, it waits in the team queue
    last = _verb(client, bearer(client, second), body["id"], "decline").json()
    assert last["offered_agent"] is None
    assert last["status"] == "queued" and last["target_team"]["id"] == desk.team.id
    # and who declined may still take it from the team queue
    assert _verb(client, bearer(client, first), body["id"], "accept").status_code == 200


def test_decline_refusals(client, session, service_headers):
    desk = make_desk(session, agents=2)
    body = escalate(client, service_headers, desk.conversation)
    not_offered = _verb(client, bearer(client, desk.agents[1]), body["id"], "decline")
    assert not_offered.status_code == 409
    assert not_offered.json()["error"]["code"] == "not_offered"
    outsider = make_agent(session, team=make_team(session))
    assert (
        _verb(client, bearer(client, outsider), body["id"], "decline").status_code
        == 403
    )


# ---- transfer ------------------------------------------------------------------


def _accepted(client, session, service_headers, **desk_kw):  # type: ignore[no-untyped-def]
    desk = make_desk(session, **desk_kw)
    body = escalate(client, service_headers, desk.conversation)
    holder = desk.agents[0]
    headers = bearer(client, holder)
    assert _verb(client, headers, body["id"], "accept").status_code == 200
    return desk, body["id"], holder, headers


def test_transfer_to_a_team_with_a_private_note(client, session, service_headers):
    desk, escalation_id, holder, headers = _accepted(client, session, service_headers)
    retention = make_team(session, name="客户挽留组", topics=["retention"])
    keeper = make_agent(session, team=retention, name="孙悦", skills=["retention"])
    response = _verb(
        client,
        headers,
        escalation_id,
        "transfer",
        {"team_id": retention.id, "note": "客户想退保，请挽留"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["target_team"]["id"] == retention.id
    assert body["offered_agent"]["id"] == keeper.id
    session.refresh(desk.conversation)
    assert desk.conversation.status == ConversationStatus.queued
    assert desk.conversation.assigned_agent_id is None
    note, notice = _messages(session, desk.conversation)[-2:]
    assert note.private and note.agent_id == holder.id
    assert "客户想退保，请挽留" in note.text
    assert notice.sender == Sender.system and not notice.private
    assert notice.text == "正在为您转接客户挽留组，请稍候。"
    assert _kinds(session, escalation_id)[-2:] == ["transferred", "offered"]
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None and escalation.transferred_at is not None
    # the former holder no longer writes to (nor, another team's now, reads) it
    sent = client.post(
        f"{AGENT_URL}/conversations/{desk.conversation.id}/messages",
        json={"text": "还在吗"},
        headers=headers,
    )
    assert sent.status_code == 403
    # the note never reaches the customer's side of the transcript
    public = client.get(
        f"{SERVICE_URL}/conversations/{desk.conversation.id}/messages",
        headers=service_headers,
    ).json()["items"]
    assert all(not m["private"] for m in public)
    assert "客户想退保" not in str(public)
    accepted = _verb(client, bearer(client, keeper), escalation_id, "accept")
    assert accepted.status_code == 200


def test_transfer_to_an_online_colleague(client, session, service_headers):
    desk, escalation_id, _, headers = _accepted(client, session, service_headers)
    expert = make_agent(session, team=make_team(session), name="钱多多")
    body = _verb(
        client,
        headers,
        escalation_id,
        "transfer",
        {"agent_id": expert.id, "note": "理赔专家跟进"},
    ).json()
    assert body["target_agent"]["id"] == expert.id
    assert body["offered_agent"]["id"] == expert.id
    notice = _messages(session, desk.conversation)[-1]
    assert (
        notice.text == f"正在为您转接客服钱多多（工号{expert.employee_no}），请稍候。"
    )


def test_transfer_refusals(client, session, service_headers):
    desk, escalation_id, holder, headers = _accepted(
        client, session, service_headers, agents=2
    )
    offline = make_agent(session, presence=Presence.offline)
    gone = make_agent(session, status=AgentStatus.departed)
    cases = [
        ({"agent_id": offline.id, "note": "x"}, 409, "agent_not_online"),
        ({"agent_id": gone.id, "note": "x"}, 422, "agent_departed"),
        ({"agent_id": holder.id, "note": "x"}, 422, "transfer_to_self"),
        ({"agent_id": 999_999, "note": "x"}, 404, "not_found"),
        ({"team_id": 999_999, "note": "x"}, 404, "not_found"),
        ({"agent_id": offline.id, "team_id": desk.team.id, "note": "x"}, 422, None),
        ({"note": "x"}, 422, None),
        ({"team_id": desk.team.id, "note": ""}, 422, None),
    ]
    for payload, status, code in cases:
        response = _verb(client, headers, escalation_id, "transfer", payload)
        assert response.status_code == status, (payload, response.text)
        if code:
            assert response.json()["error"]["code"] == code
    # a team-mate may not hand on a conversation someone else holds
    mate = bearer(client, desk.agents[1])
    refused = _verb(
        client, mate, escalation_id, "transfer", {"team_id": desk.team.id, "note": "x"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_holder"
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None and escalation.status == EscalationStatus.active


def test_a_queued_escalation_may_be_transferred_by_the_team(
    client, session, service_headers
):
    desk = make_desk(session, agents=2)
    body = escalate(client, service_headers, desk.conversation)
    other = make_team(session, name="投诉处理组", topics=["complaints"])
    make_agent(session, team=other, skills=["complaints"])
    moved = _verb(
        client,
        bearer(client, desk.agents[1]),
        body["id"],
        "transfer",
        {"team_id": other.id, "note": "属于投诉"},
    )
    assert moved.status_code == 200
    assert moved.json()["target_team"]["id"] == other.id


# ---- resolve and close ---------------------------------------------------------


def test_resolve_hands_back_to_the_bot(client, session, service_headers):
    desk, escalation_id, holder, headers = _accepted(client, session, service_headers)
    response = _verb(
        client,
        headers,
        escalation_id,
        "resolve",
        {"outcome": "resolved", "note": "已说明宽限期"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    assert response.json()["outcome"] == "resolved"
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None
    assert escalation.resolved_at is not None and escalation.closed_at is not None
    assert escalation.resolved_by_id == holder.id
    assert escalation.resolution_note == "已说明宽限期"
    session.refresh(desk.conversation)
    assert desk.conversation.status == ConversationStatus.bot
    assert desk.conversation.assigned_agent_id is None
    notice = _messages(session, desk.conversation)[-1]
    assert notice.sender == Sender.system and "已结束本次人工服务" in notice.text
    assert _kinds(session, escalation_id)[-1] == "resolved"
    brief = client.get(f"{AGENT_URL}/escalations/{escalation_id}", headers=headers)
    assert brief.json()["outcome_label"] == "问题已解决"
    csat = client.post(
        f"{SERVICE_URL}/escalations/{escalation_id}/csat",
        json={"score": 5},
        headers=service_headers,
    )
    assert csat.status_code == 200
    again = _verb(client, headers, escalation_id, "resolve", {"outcome": "resolved"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "escalation_closed"
    # the next customer message goes to the bot again
    reply = client.post(
        f"{SERVICE_URL}/conversations/messages",
        json={
            "channel": "web",
            "external_id": desk.conversation.external_id,
            "text": "谢谢",
        },
        headers=service_headers,
    )
    assert reply.json()["status"] == "bot"


def test_resolve_refusals_and_the_supervisor(client, session, service_headers):
    desk, escalation_id, _, headers = _accepted(
        client, session, service_headers, agents=2
    )
    bad = _verb(client, headers, escalation_id, "resolve", {"outcome": "great"})
    assert bad.status_code == 422
    mate = _verb(
        client,
        bearer(client, desk.agents[1]),
        escalation_id,
        "resolve",
        {"outcome": "resolved"},
    )
    assert mate.status_code == 403
    assert mate.json()["error"]["code"] == "not_holder"
    boss = supervisor(session)
    done = _verb(
        client,
        bearer(client, boss),
        escalation_id,
        "resolve",
        {"outcome": "follow_up"},
    )
    assert done.status_code == 200
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None and escalation.resolved_by_id == boss.id


def test_a_call_back_can_be_resolved_from_the_queue(client, session, service_headers):
    desk = make_desk(session, agents=1)
    desk.agents[0].presence = Presence.offline
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    assert body["callback"] is True
    done = _verb(
        client,
        bearer(client, desk.agents[0]),
        body["id"],
        "resolve",
        {"outcome": "callback_done", "note": "已电话联系客户"},
    )
    assert done.status_code == 200
    assert done.json()["outcome"] == "callback_done"


def test_close_ends_the_conversation_without_handback(client, session, service_headers):
    desk, escalation_id, _, headers = _accepted(client, session, service_headers)
    response = _verb(client, headers, escalation_id, "close")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "closed_by_agent"
    session.refresh(desk.conversation)
    assert desk.conversation.status == ConversationStatus.closed
    assert desk.conversation.closed_at is not None
    assert _messages(session, desk.conversation)[-1].text.startswith("本次会话已结束")
    assert _kinds(session, escalation_id)[-1] == "closed"
    assert _verb(client, headers, escalation_id, "close").status_code == 409
    # the service's close of a conversation closes its open escalation too
    other = make_desk(session)
    opened = escalate(client, service_headers, other.conversation)
    closed = client.post(
        f"{SERVICE_URL}/conversations/{other.conversation.id}/close",
        headers=service_headers,
    )
    assert closed.status_code == 200
    row = session.get(Escalation, opened["id"])
    assert row is not None and row.status == EscalationStatus.closed
    assert row.offered_agent_id is None and row.outcome == "conversation_closed"


# ---- queue order: priority plus minutes waited ---------------------------------


def test_waiting_time_counts_as_priority(client, session, service_headers):
    desk = make_desk(session, agents=1)
    desk.agents[0].capacity = 0  # nobody takes anything: everyone waits
    session.flush()
    start = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        patient = escalate(client, service_headers, make_conversation(session))
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        # +15 for strong feelings, but the first customer has waited 20 minutes
        angry = escalate(
            client,
            service_headers,
            make_conversation(session),
            trigger="negative_sentiment",
            topic="general",
        )
    with time_machine.travel(start + timedelta(minutes=25), tick=False):
        late = escalate(
            client,
            service_headers,
            make_conversation(session),
            trigger="negative_sentiment",
            topic="general",
        )
        assert patient["queue_position"] == 1
        assert angry["queue_position"] == 2
        # scores now: patient 0 + 25, angry 15 + 5, late 15 + 0
        assert late["queue_position"] == 3
        rows = client.get(
            f"{AGENT_URL}/escalations",
            params={"scope": "team"},
            headers=bearer(client, desk.agents[0]),
        ).json()["items"]
        assert [r["id"] for r in rows] == [patient["id"], angry["id"], late["id"]]
        assert [r["queue_score"] for r in rows] == [25, 20, 15]
    escalation = session.get(Escalation, patient["id"])
    assert escalation is not None
    assert escalation.rank_at == escalation.queued_at  # priority 0
