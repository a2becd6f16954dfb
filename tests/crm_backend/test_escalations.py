"""Escalations: priority, topic, routing to named agents or teams, call-back, queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.agents.load import Load, agent_loads, load_parts
from crm_backend.core.errors import Conflict, Forbidden, NotFound
from crm_backend.escalations import flows, routing, service
from crm_backend.escalations.schemas import EscalationCreate
from crm_backend.models import (
    Conversation,
    Customer,
    CustomerScore,
    Escalation,
    EscalationEvent,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    ConversationStatus,
    EscalationStatus,
    EscalationTrigger,
    Presence,
    RiskLevel,
    Sender,
    ValueTier,
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

URL = "/api/v1/service/escalations"
AGENT_URL = "/api/v1/agent/escalations"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-03-03 is a Tuesday; 2026-03-06 a Friday.
TUESDAY_NOON = datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI)
TUESDAY_22 = datetime(2026, 3, 3, 22, 0, tzinfo=SHANGHAI)


def _score(
    session: Session, customer: Customer, tier: ValueTier, risk: RiskLevel
) -> None:
    session.add(
        CustomerScore(customer_id=customer.id, value_tier=tier, churn_risk=risk)
    )
    session.flush()


def _escalate(client, headers, conversation: Conversation, **body):  # type: ignore[no-untyped-def]
    payload = {
        "conversation_id": conversation.id,
        "trigger": "customer_request",
        "reason": "客户要求人工服务",
        **body,
    }
    return client.post(URL, json=payload, headers=headers)


def _create(conversation: Conversation, **fields) -> EscalationCreate:  # type: ignore[no-untyped-def]
    data = {
        "conversation_id": conversation.id,
        "trigger": EscalationTrigger.customer_request,
        "reason": "转人工",
        **fields,
    }
    return EscalationCreate(**data)


# ---- the bot's call ----------------------------------------------------------


def test_escalate_queues_the_conversation_and_explains(
    client, service_headers, session
):
    team = make_team(session, name="综合服务组", topics=["general"])
    make_agent(session, team=team, name="周婷")
    conversation = make_conversation(session)
    response = _escalate(
        client, service_headers, conversation, slots={"policy_number": "P1"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["existing"] is False
    assert body["status"] == "queued"
    assert body["trigger"] == "customer_request"
    assert body["reason"] == "客户要求人工服务"
    assert body["topic"] == "general"
    assert body["priority"] == 0 and body["priority_reasons"] == []
    assert body["target_team"]["name"] == "综合服务组"
    assert body["target_agent"] is None
    assert body["queue_position"] == 1
    # offered to 周婷 at once: the wait is her accepting it
    assert body["offered_agent"]["name"] == "周婷"
    assert body["estimated_wait_minutes"] == 1
    assert body["callback"] is False and body["callback_due_at"] is None
    assert "综合服务组" in body["notice"] and "1分钟" in body["notice"]
    session.refresh(conversation)
    assert conversation.status == ConversationStatus.queued
    escalation = session.get(Escalation, body["id"])
    assert escalation is not None and escalation.slots == {"policy_number": "P1"}
    events = session.scalars(
        select(EscalationEvent).where(EscalationEvent.escalation_id == escalation.id)
    ).all()
    assert [e.kind for e in events] == ["queued", "offered"]
    assert events[0].note is not None and "周婷" in events[0].note
    assert "客户要求人工" in events[0].note
    assert escalation.offered_agent_id == events[1].actor_id
    assert body["offered_agent"]["name"] == "周婷"


def test_escalating_twice_returns_the_open_one(client, service_headers, session):
    conversation = make_conversation(session)
    first = _escalate(client, service_headers, conversation)
    second = _escalate(client, service_headers, conversation, trigger="angry_complaint")
    assert second.status_code == 200
    assert second.json()["existing"] is True
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["trigger"] == "customer_request"
    count = session.scalar(
        select(func.count(Escalation.id)).where(
            Escalation.conversation_id == conversation.id
        )
    )
    assert count == 1


def test_escalate_refusals(client, service_headers, session):
    closed = make_conversation(session, status=ConversationStatus.closed)
    response = _escalate(client, service_headers, closed)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conversation_closed"
    held = make_conversation(session, status=ConversationStatus.agent)
    assert _escalate(client, service_headers, held).json()["error"]["code"] == (
        "already_with_agent"
    )
    ghost = make_conversation(session)
    ghost_id = ghost.id
    session.delete(ghost)
    session.flush()
    missing = client.post(
        URL,
        json={"conversation_id": ghost_id, "trigger": "surrender", "reason": "x"},
        headers=service_headers,
    )
    assert missing.status_code == 404
    bad = _escalate(client, service_headers, make_conversation(session), topic="sales")
    assert bad.status_code == 422
    bad_trigger = _escalate(
        client, service_headers, make_conversation(session), trigger="bored"
    )
    assert bad_trigger.status_code == 422
    assert client.post(URL, json={}).status_code == 401


# ---- routing -----------------------------------------------------------------


def test_online_servicing_agent_under_capacity_gets_it(
    client, service_headers, session
):
    team = make_team(session, topics=["general"])
    make_agent(session, team=team)
    own = make_agent(session, name="黄磊", capacity=2, team=make_team(session))
    customer = make_customer(session, agent=own)
    make_conversation(session, status=ConversationStatus.agent, agent=own)
    conversation = make_conversation(session, customer=customer)
    body = _escalate(client, service_headers, conversation).json()
    assert body["target_agent"] == {
        "id": own.id,
        "name": "黄磊",
        "employee_no": own.employee_no,
        "presence": "online",
    }
    assert body["target_team"] is None
    assert body["queue_position"] == 1
    assert "黄磊" in body["notice"] and own.employee_no in body["notice"]


@pytest.mark.parametrize("why", ["at_capacity", "offline", "departed"])
def test_unavailable_servicing_agent_falls_back_to_a_team(
    client, service_headers, session, why
):
    desk = make_team(session, name="综合服务组", topics=["general"])
    make_agent(session, team=desk)
    own = make_agent(
        session,
        capacity=1,
        presence=Presence.offline if why == "offline" else Presence.online,
        status=AgentStatus.departed if why == "departed" else AgentStatus.active,
    )
    customer = make_customer(session, agent=own)
    if why == "at_capacity":
        # an escalation offered to him counts towards his load before he accepts
        waiting = make_conversation(session, status=ConversationStatus.queued)
        offer = make_escalation(session, conversation=waiting, agent=own)
        offer.offered_agent_id = own.id
        session.flush()
    body = _escalate(
        client, service_headers, make_conversation(session, customer=customer)
    ).json()
    assert body["target_agent"] is None
    assert body["target_team"]["id"] == desk.id
    assert body["callback"] is False


def test_team_with_the_topic_and_the_least_loaded_skilled_agent_wins(
    client, service_headers, session
):
    general = make_team(session, topics=["general"])
    make_agent(session, team=general)
    busy_desk = make_team(session, name="挽留一组", topics=["retention"])
    busy = make_agent(session, team=busy_desk, skills=["retention"])
    make_conversation(session, status=ConversationStatus.agent, agent=busy)
    free_desk = make_team(session, name="挽留二组", topics=["retention"])
    make_agent(session, team=free_desk, skills=["retention"])
    # an idle agent without the skill does not make his desk the choice
    odd_desk = make_team(session, name="挽留三组", topics=["retention"])
    make_agent(session, team=odd_desk, skills=["vip"])
    conversation = make_conversation(session)
    body = _escalate(client, service_headers, conversation, trigger="surrender").json()
    assert body["topic"] == "retention"
    assert body["target_team"]["name"] == "挽留二组"


def test_no_team_for_the_topic_falls_back_to_general(client, service_headers, session):
    make_team(session, topics=["complaints"])  # nobody online there
    general = make_team(session, topics=["general"])
    make_agent(session, team=general, skills=["vip"])
    body = _escalate(
        client, service_headers, make_conversation(session), trigger="angry_complaint"
    ).json()
    assert body["topic"] == "complaints"
    assert body["target_team"]["id"] == general.id


@time_machine.travel(TUESDAY_22, tick=False)
def test_nobody_online_promises_a_call_back_next_morning(
    client, service_headers, session
):
    desk = make_team(session, topics=["general"])
    make_agent(session, team=desk, presence=Presence.offline)
    own = make_agent(session, name="吴昊", presence=Presence.away)
    customer = make_customer(session, agent=own)
    conversation = make_conversation(session, customer=customer)
    response = _escalate(client, service_headers, conversation, slots={"a": 1})
    body = response.json()
    due = datetime(2026, 3, 4, 11, 0, tzinfo=SHANGHAI)
    assert body["callback"] is True
    assert datetime.fromisoformat(body["callback_due_at"]) == due
    assert body["target_agent"]["name"] == "吴昊"
    assert body["status"] == "queued"
    assert body["estimated_wait_minutes"] is None
    assert "吴昊" in body["notice"] and "明天 11:00" in body["notice"]
    escalation = session.get(Escalation, body["id"])
    assert escalation is not None
    assert escalation.slots["a"] == 1
    assert datetime.fromisoformat(escalation.slots["callback_due_at"]) == due
    session.refresh(conversation)
    assert conversation.status == ConversationStatus.queued


@time_machine.travel(TUESDAY_NOON, tick=False)
def test_call_back_in_working_hours_goes_to_the_team(client, service_headers, session):
    desk = make_team(session, name="综合服务组", topics=["general"])
    make_agent(session, team=desk, presence=Presence.offline)
    body = _escalate(
        client,
        service_headers,
        make_conversation(session),
        slots={"callback_due_at": "bogus"},
    ).json()
    assert body["target_team"]["id"] == desk.id
    due = datetime.fromisoformat(body["callback_due_at"])
    assert due == TUESDAY_NOON + timedelta(hours=2)
    assert "今天 14:00" in body["notice"]


def test_no_team_at_all_still_promises_a_call_back(client, service_headers, session):
    body = _escalate(client, service_headers, make_conversation(session)).json()
    assert body["callback"] is True
    assert body["target_agent"] is None and body["target_team"] is None
    assert body["queue_position"] is None
    assert "我们的客服人员" in body["notice"]


# ---- priority and queue --------------------------------------------------------


def test_priority_reasons_from_tier_risk_trigger_and_sentiment(
    client, service_headers, session
):
    customer = make_customer(session)
    _score(session, customer, ValueTier.vip, RiskLevel.high)
    conversation = make_conversation(session, customer=customer)
    body = _escalate(
        client,
        service_headers,
        conversation,
        trigger="angry_complaint",
        sentiment=-0.7,
    ).json()
    assert body["priority"] == 75
    assert [(r["code"], r["points"]) for r in body["priority_reasons"]] == [
        ("tier_vip", 30),
        ("churn_high", 20),
        ("trigger_angry_complaint", 15),
        ("sentiment_negative", 10),
    ]
    assert body["priority_reasons"][0]["label"] == "VIP客户"
    assert body["topic"] == "complaints"


def test_sentiment_falls_back_to_the_last_customer_message(
    client, service_headers, session
):
    customer = make_customer(session)
    _score(session, customer, ValueTier.gold, RiskLevel.medium)
    conversation = make_conversation(session, customer=customer)
    make_message(session, conversation=conversation, sentiment=-0.9)
    make_message(session, conversation=conversation, sender=Sender.bot)
    body = _escalate(
        client, service_headers, conversation, trigger="payment_difficulty"
    ).json()
    assert body["priority"] == 15 + 10 + 10 + 10
    assert body["topic"] == "retention"


def test_unscored_customer_counts_as_standard_low(session):
    customer = make_customer(session)
    assert service.standing(session, customer_id=customer.id) == (
        ValueTier.standard,
        RiskLevel.low,
    )
    assert service.standing(session, customer_id=None) == (None, None)


def test_queue_position_orders_by_priority_then_age(client, service_headers, session):
    desk = make_team(session, topics=["general"])
    make_agent(session, team=desk, presence=Presence.offline)
    online = make_agent(session, team=desk)
    assert online.id
    with time_machine.travel(TUESDAY_NOON, tick=False):
        early = _escalate(client, service_headers, make_conversation(session)).json()
    with time_machine.travel(TUESDAY_NOON + timedelta(minutes=5), tick=False):
        later = _escalate(client, service_headers, make_conversation(session)).json()
        angry = _escalate(
            client,
            service_headers,
            make_conversation(session),
            trigger="negative_sentiment",
            topic="general",
        ).json()
    assert angry["priority"] == 15
    assert angry["queue_position"] == 1
    positions = {
        name: client.get(f"{URL}/{esc['id']}", headers=service_headers).json()[
            "queue_position"
        ]
        for name, esc in (("early", early), ("later", later), ("angry", angry))
    }
    assert positions == {"early": 2, "later": 3, "angry": 1}
    later_body = client.get(f"{URL}/{later['id']}", headers=service_headers).json()
    assert "前面还有2位客户" in later_body["notice"]


def test_get_escalation(client, service_headers, session):
    escalation = make_escalation(session, conversation=make_conversation(session))
    body = client.get(f"{URL}/{escalation.id}", headers=service_headers).json()
    assert body["id"] == escalation.id and body["existing"] is False
    assert client.get(f"{URL}/999999", headers=service_headers).status_code == 404
    escalation.status = EscalationStatus.active
    session.flush()
    active = client.get(f"{URL}/{escalation.id}", headers=service_headers).json()
    assert active["queue_position"] is None
    assert active["notice"] == "人工客服正在为您服务。"
    escalation.status = EscalationStatus.queued
    session.flush()
    queued = client.get(f"{URL}/{escalation.id}", headers=service_headers).json()
    assert queued["notice"] == "正在为您转接人工客服，请稍候。"


# ---- CSAT ----------------------------------------------------------------------


def test_csat_only_once_for_a_closed_escalation(client, service_headers, session):
    escalation = make_escalation(session, conversation=make_conversation(session))
    url = f"{URL}/{escalation.id}/csat"
    open_ = client.post(url, json={"score": 5}, headers=service_headers)
    assert open_.status_code == 409
    assert open_.json()["error"]["code"] == "escalation_not_closed"
    escalation.status = EscalationStatus.closed
    escalation.closed_at = utcnow()
    session.flush()
    for bad in (0, 6):
        assert (
            client.post(url, json={"score": bad}, headers=service_headers).status_code
            == 422
        )
    done = client.post(url, json={"score": 4}, headers=service_headers)
    assert done.status_code == 200
    assert done.json()["csat"] == 4 and done.json()["csat_at"] is not None
    assert "已结束" in done.json()["notice"]
    session.refresh(escalation)
    assert escalation.csat == 4 and escalation.csat_at is not None
    again = client.post(url, json={"score": 1}, headers=service_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "csat_recorded"
    missing = client.post(
        f"{URL}/999999/csat", json={"score": 3}, headers=service_headers
    )
    assert missing.status_code == 404


# ---- agent API -----------------------------------------------------------------


def test_agent_lists_by_scope(client, session):
    team = make_team(session, name="VIP服务台", topics=["vip"])
    other = make_team(session)
    me = make_agent(session, team=team, name="郑爽")
    mate = make_agent(session, team=team)
    outsider = make_agent(session, team=other)
    boss = make_agent(session, role=AgentRole.supervisor)
    customer = make_customer(session, name="司马光")
    for_me = make_escalation(
        session, conversation=make_conversation(session, customer=customer), agent=me
    )
    for_me.priority = 60
    for_team = make_escalation(
        session, conversation=make_conversation(session), team=team
    )
    for_mate = make_escalation(
        session, conversation=make_conversation(session), agent=mate
    )
    elsewhere = make_escalation(
        session, conversation=make_conversation(session), team=other
    )
    closed = make_escalation(
        session,
        conversation=make_conversation(session),
        agent=me,
        status=EscalationStatus.closed,
    )
    session.flush()
    headers = login(client, me)

    def ids(**params) -> list[int]:  # type: ignore[no-untyped-def]
        response = client.get(AGENT_URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [for_me.id]
    assert ids(scope="team") == [for_me.id, for_team.id, for_mate.id]
    assert ids(status="closed") == [closed.id]
    row = client.get(AGENT_URL, headers=headers).json()["items"][0]
    assert row["customer_name"] == "司**"
    assert row["target_agent_name"] == "郑爽"
    assert row["trigger_label"] == "客户要求人工"
    assert row["waiting_minutes"] >= 0 and row["callback"] is False
    team_row = client.get(AGENT_URL, params={"scope": "team"}, headers=headers).json()
    assert team_row["items"][1]["target_team_name"] == "VIP服务台"
    denied = client.get(AGENT_URL, params={"scope": "all"}, headers=headers)
    assert denied.status_code == 403
    boss_headers = login(client, boss)
    everything = client.get(AGENT_URL, params={"scope": "all"}, headers=boss_headers)
    all_ids = {item["id"] for item in everything.json()["items"]}
    assert {for_me.id, for_team.id, for_mate.id, elsewhere.id} <= all_ids
    assert closed.id not in all_ids
    outsider_ids = client.get(
        AGENT_URL, params={"scope": "team"}, headers=login(client, outsider)
    ).json()["items"]
    assert [i["id"] for i in outsider_ids] == [elsewhere.id]
    assert (
        client.get(AGENT_URL, params={"scope": "world"}, headers=headers).status_code
        == 422
    )
    assert client.get(AGENT_URL).status_code == 401


def test_agent_brief_and_its_access_rule(client, service_headers, session):
    team = make_team(session, topics=["general"])
    other = make_team(session)
    agent = make_agent(session, team=team)
    stranger = make_agent(session, team=other)
    customer = make_customer(session)
    _score(session, customer, ValueTier.gold, RiskLevel.low)
    conversation = make_conversation(session, customer=customer)
    conversation.verification_level = VerificationLevel.verified
    session.flush()
    created = _escalate(
        client,
        service_headers,
        conversation,
        trigger="verification_failed",
        reason="三次验证失败",
        slots={"phone": "138****5678"},
    ).json()
    assert created["target_team"]["id"] == team.id
    url = f"{AGENT_URL}/{created['id']}"
    brief = client.get(url, headers=login(client, agent)).json()
    assert brief["trigger"] == "verification_failed"
    assert brief["trigger_label"] == "身份验证失败"
    assert brief["reason"] == "三次验证失败"
    assert brief["slots"] == {"phone": "138****5678"}
    assert brief["verification_level"] == "verified"
    assert brief["customer_id"] == customer.id
    assert [r["code"] for r in brief["priority_reasons"]] == [
        "tier_gold",
        "trigger_verification_failed",
    ]
    assert brief["priority"] == 20
    assert [e["kind"] for e in brief["events"]] == ["queued", "offered"]
    assert brief["target_team"]["id"] == team.id
    assert client.get(url, headers=login(client, stranger)).status_code == 403
    missing = client.get(f"{AGENT_URL}/999999", headers=login(client, agent))
    assert missing.status_code == 404


# ---- service and routing functions ---------------------------------------------


def test_agent_load_is_held_conversations_plus_current_offers(session):
    agent = make_agent(session)
    idle = make_agent(session)
    make_conversation(session, status=ConversationStatus.agent, agent=agent)
    offered = make_escalation(
        session,
        conversation=make_conversation(session, status=ConversationStatus.queued),
        agent=agent,
    )
    offered.offered_agent_id = agent.id
    # targeted at him but not offered (a call-back), closed, bot-owned: no load
    make_escalation(
        session,
        conversation=make_conversation(session, status=ConversationStatus.queued),
        agent=agent,
    )
    old_offer = make_escalation(
        session,
        conversation=make_conversation(session, status=ConversationStatus.closed),
        agent=agent,
        status=EscalationStatus.closed,
    )
    old_offer.offered_agent_id = agent.id
    make_conversation(session, status=ConversationStatus.closed, agent=agent)
    make_conversation(session, status=ConversationStatus.bot, agent=agent)
    session.flush()
    assert agent_loads(session, [agent.id, idle.id]) == {agent.id: 2, idle.id: 0}
    assert load_parts(session, [agent.id])[agent.id] == Load(held=1, offered=1)
    assert agent_loads(session, []) == {}


def test_service_function_errors(session):
    with pytest.raises(NotFound):
        service.get(session, escalation_id=999_999)
    with pytest.raises(NotFound):
        flows.escalate(
            session,
            escalation_in=EscalationCreate(
                conversation_id=999_999, trigger=EscalationTrigger.surrender, reason="x"
            ),
        )
    escalation = make_escalation(session, conversation=make_conversation(session))
    with pytest.raises(Conflict):
        service.record_csat(session, escalation_id=escalation.id, score=3)
    agent = make_agent(session)
    with pytest.raises(Forbidden):
        service.list_for_agent(session, agent=agent, scope="all")
    # an agent without a team sees only his own in the team scope
    assert service.list_for_agent(session, agent=agent, scope="team") == ([], 0)


def test_flow_escalate_and_close_conversation(session):
    conversation = make_conversation(session)
    result = flows.escalate(session, escalation_in=_create(conversation))
    assert result.existing is False
    assert (
        service.open_for_conversation(session, conversation_id=conversation.id)
        is result.escalation
    )
    flows.close_conversation(session, conversation_id=conversation.id)
    assert result.escalation.status == EscalationStatus.closed
    assert (
        service.open_for_conversation(session, conversation_id=conversation.id) is None
    )
    assert (
        service.record_csat(session, escalation_id=result.escalation.id, score=5).csat
        == 5
    )
    assert service.waiting_minutes(result.escalation) == 0


def test_topic_rules():
    assert (
        routing.topic_for(
            explicit="vip", trigger=EscalationTrigger.surrender, tier=None
        )
        == "vip"
    )
    for trigger in ("surrender", "payment_difficulty", "churn_risk"):
        assert (
            routing.topic_for(
                explicit=None, trigger=EscalationTrigger(trigger), tier=ValueTier.vip
            )
            == "retention"
        )
    assert (
        routing.topic_for(
            explicit=None, trigger=EscalationTrigger.angry_complaint, tier=ValueTier.vip
        )
        == "complaints"
    )
    assert (
        routing.topic_for(
            explicit=None, trigger=EscalationTrigger.nlu_failure, tier=ValueTier.vip
        )
        == "vip"
    )
    assert (
        routing.topic_for(
            explicit=None, trigger=EscalationTrigger.nlu_failure, tier=ValueTier.gold
        )
        == "general"
    )


def test_priority_is_clipped_and_explained():
    points, reasons = routing.priority(
        tier=ValueTier.basic,
        churn=RiskLevel.low,
        trigger=EscalationTrigger.surrender,
        sentiment=-0.59,
    )
    assert (points, [r["code"] for r in reasons]) == (10, ["trigger_surrender"])
    assert routing.priority(
        tier=None,
        churn=None,
        trigger=EscalationTrigger.customer_request,
        sentiment=None,
    ) == (0, [])


def _agent(agent_id: int, **kw) -> routing.AgentLoad:  # type: ignore[no-untyped-def]
    base = dict(
        agent_id=agent_id,
        name=f"A{agent_id}",
        team_id=1,
        active=True,
        online=True,
        load=0,
        capacity=3,
    )
    return routing.AgentLoad(**{**base, **kw})


def test_choose_route_branches():
    servicing = _agent(1, load=3)
    desk = routing.TeamOption(
        1, "综合", ("general",), (_agent(2, load=2), _agent(3, load=1))
    )
    route = routing.choose_route(topic="general", servicing=servicing, teams=[desk])
    assert (route.kind, route.team_id, route.agent_id) == ("team", 1, None)
    assert "已满负荷" in route.note and "A3 1/3" in route.note
    free = routing.choose_route(topic="vip", servicing=_agent(1), teams=[desk])
    assert (free.kind, free.agent_id) == ("servicing_agent", 1)
    nobody = routing.TeamOption(2, "VIP", ("vip",), ())
    gone = _agent(1, active=False)
    callback = routing.choose_route(topic="vip", servicing=gone, teams=[nobody])
    assert (callback.kind, callback.team_id, callback.callback) == ("callback", 2, True)
    assert "已离职" in callback.note
    away = routing.choose_route(
        topic="vip", servicing=_agent(1, online=False), teams=[nobody]
    )
    assert (away.kind, away.agent_id) == ("callback", 1)
    assert "不在线" in away.note
    assert routing.choose_route(topic="vip", servicing=None, teams=[]).team_id is None


def test_call_back_times():
    def due(local: datetime) -> datetime:
        return routing.callback_due(local.astimezone(UTC)).astimezone(SHANGHAI)

    assert due(TUESDAY_22) == datetime(2026, 3, 4, 11, 0, tzinfo=SHANGHAI)
    assert due(datetime(2026, 3, 3, 7, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 3, 11, 0, tzinfo=SHANGHAI
    )
    assert due(datetime(2026, 3, 6, 22, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 9, 11, 0, tzinfo=SHANGHAI
    )
    assert due(datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 9, 11, 0, tzinfo=SHANGHAI
    )
    # Late in the day the two working hours run on into the next morning.
    assert due(datetime(2026, 3, 3, 17, 30, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 4, 10, 30, tzinfo=SHANGHAI
    )
    assert due(datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 9, 10, 0, tzinfo=SHANGHAI
    )
    assert due(datetime(2026, 3, 3, 16, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 3, 18, 0, tzinfo=SHANGHAI
    )
    assert due(datetime(2026, 3, 3, 18, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 3, 4, 11, 0, tzinfo=SHANGHAI
    )
    now = TUESDAY_NOON
    assert routing.describe_time(now + timedelta(days=5), now=now) == "3月8日 12:00"
