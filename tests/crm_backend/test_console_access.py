"""Supervisors' overview, the brief's customer picture, and who may act on which
conversation (another team's: 403; a supervisor: allowed)."""

from __future__ import annotations

from datetime import date, timedelta

from crm_backend.models import CustomerScore
from crm_backend.models.enums import (
    BillStatus,
    ClaimStatus,
    Presence,
    RiskLevel,
    Sender,
    TicketStatus,
    ValueTier,
)
from tests.crm_backend.takeover import (
    AGENT_URL,
    bearer,
    escalate,
    make_desk,
    supervisor,
)
from tests.factories import (
    make_agent,
    make_bill,
    make_claim,
    make_message,
    make_policy,
    make_team,
    make_ticket,
)

OVERVIEW = f"{AGENT_URL}/console/overview"


def test_overview_is_for_supervisors(client, session, service_headers):
    desk = make_desk(session, agents=2)
    first, second = desk.agents
    second.presence = Presence.away
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    assert body["offered_agent"]["id"] == first.id
    refused = client.get(OVERVIEW, headers=bearer(client, first))
    assert refused.status_code == 403
    boss = supervisor(session)
    response = client.get(OVERVIEW, headers=bearer(client, boss))
    assert response.status_code == 200, response.text
    overview = response.json()
    queue = next(q for q in overview["queues"] if q["team_id"] == desk.team.id)
    assert queue["waiting"] == 1 and queue["offered"] == 1
    assert queue["callbacks"] == 0 and queue["active"] == 0
    assert queue["oldest_wait_minutes"] == 0
    assert queue["online_agents"] == 1
    rows = {a["id"]: a for a in overview["agents"]}
    assert rows[first.id]["offered"] == 1 and rows[first.id]["load"] == 1
    assert rows[first.id]["available"] is True
    assert rows[second.id]["presence"] == "away"
    assert rows[second.id]["available"] is False
    assert overview["waiting_total"] >= 1
    client.post(
        f"{AGENT_URL}/escalations/{body['id']}/accept", headers=bearer(client, first)
    )
    after = client.get(OVERVIEW, headers=bearer(client, boss)).json()
    queue = next(q for q in after["queues"] if q["team_id"] == desk.team.id)
    assert (queue["waiting"], queue["active"]) == (0, 1)
    row = next(a for a in after["agents"] if a["id"] == first.id)
    assert (row["held"], row["offered"], row["load"]) == (1, 0, 1)
    me = client.get(f"{AGENT_URL}/me", headers=bearer(client, first)).json()
    assert me["load"] == 1  # the same definition everywhere


def test_the_brief_carries_the_customer_s_picture(client, session, service_headers):
    account = make_agent(session, name="陈思远", presence=Presence.offline)
    desk = make_desk(session, customer_name="孙丽", servicing=account)
    customer = desk.customer
    session.add(
        CustomerScore(
            customer_id=customer.id,
            value_tier=ValueTier.gold,
            churn_risk=RiskLevel.high,
            churn_score=70,
            churn_reasons=[
                {"code": "missed_payments", "label": "欠缴2期", "points": 40}
            ],
        )
    )
    policy = make_policy(session, holder=customer, agent=account)
    make_bill(
        session,
        policy=policy,
        due_date=date.today() - timedelta(days=20),
        status=BillStatus.overdue,
    )
    make_claim(session, policy=policy, status=ClaimStatus.under_review)
    make_ticket(session, customer=customer, status=TicketStatus.investigating)
    for i in range(25):
        make_message(session, conversation=desk.conversation, text=f"消息{i}")
    make_message(
        session, conversation=desk.conversation, text="我要人工", sender=Sender.customer
    )
    body = escalate(client, service_headers, desk.conversation, topic="general")
    agent = desk.agents[0]
    brief = client.get(
        f"{AGENT_URL}/escalations/{body['id']}", headers=bearer(client, agent)
    ).json()
    picture = brief["customer"]
    assert picture["summary"]["name"] == "孙丽"
    assert picture["summary"]["phone_masked"].count("*") == 4
    assert picture["score"]["value_tier"] == "gold"
    assert picture["score"]["churn_risk"] == "high"
    assert picture["score"]["churn_reasons"][0]["label"] == "欠缴2期"
    assert picture["servicing_agent"]["agent"]["name"] == "陈思远"
    assert [p["policy_no"] for p in picture["policies"]] == [policy.policy_no]
    assert picture["policies"][0]["debit_account_masked"].endswith("5678")
    assert "6225880212345678" not in str(picture)
    assert picture["bills"]["arrears_count"] == 1
    assert picture["claims"][0]["status"] == "under_review"
    assert picture["complaints"][0]["status"] == "investigating"
    assert len(brief["transcript"]) == 20
    assert brief["transcript"][-1]["text"] == "我要人工"
    assert brief["offered_agent"]["id"] == agent.id
    assert brief["offer_expires_at"] is not None


def test_an_unknown_customer_has_no_picture(client, session, service_headers):
    desk = make_desk(session)
    desk.conversation.customer_id = None
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    brief = client.get(
        f"{AGENT_URL}/escalations/{body['id']}", headers=bearer(client, desk.agents[0])
    ).json()
    assert brief["customer"] is None


def test_another_team_s_conversation_is_refused_and_a_supervisor_allowed(
    client, session, service_headers
):
    desk = make_desk(session)
    body = escalate(client, service_headers, desk.conversation)
    holder = bearer(client, desk.agents[0])
    client.post(f"{AGENT_URL}/escalations/{body['id']}/accept", headers=holder)
    stranger = make_agent(session, team=make_team(session, topics=["vip"]))
    headers = bearer(client, stranger)
    escalation_url = f"{AGENT_URL}/escalations/{body['id']}"
    conversation_url = f"{AGENT_URL}/conversations/{desk.conversation.id}"
    attempts = [
        ("get", escalation_url, None),
        ("post", f"{escalation_url}/accept", None),
        ("post", f"{escalation_url}/decline", None),
        ("post", f"{escalation_url}/transfer", {"team_id": desk.team.id, "note": "x"}),
        ("post", f"{escalation_url}/resolve", {"outcome": "resolved"}),
        ("post", f"{escalation_url}/close", None),
        ("post", f"{conversation_url}/messages", {"text": "你好"}),
        ("post", f"{conversation_url}/notes", {"text": "备注"}),
        ("get", f"{conversation_url}/messages", None),
        ("get", f"{conversation_url}/canned-replies", None),
        ("get", conversation_url, None),
    ]
    for method, url, payload in attempts:
        response = client.request(method, url, json=payload, headers=headers)
        assert response.status_code == 403, (method, url, response.text)
    boss = bearer(client, supervisor(session))
    assert client.get(escalation_url, headers=boss).status_code == 200
    note = client.post(f"{conversation_url}/notes", json={"text": "质检"}, headers=boss)
    assert note.status_code == 201
    moved = client.post(
        f"{escalation_url}/transfer",
        json={"agent_id": desk.agents[1].id, "note": "主管调度"},
        headers=boss,
    )
    assert moved.status_code == 200, moved.text
    taken = client.post(f"{escalation_url}/accept", headers=boss)
    assert taken.status_code == 200
    sent = client.post(
        f"{conversation_url}/messages", json={"text": "您好"}, headers=boss
    )
    assert sent.status_code == 201
    done = client.post(
        f"{escalation_url}/resolve", json={"outcome": "resolved"}, headers=boss
    )
    assert done.status_code == 200


def test_a_team_mate_sees_but_does_not_write(client, session, service_headers):
    desk = make_desk(session)
    body = escalate(client, service_headers, desk.conversation)
    client.post(
        f"{AGENT_URL}/escalations/{body['id']}/accept",
        headers=bearer(client, desk.agents[0]),
    )
    mate = bearer(client, desk.agents[1])
    assert (
        client.get(f"{AGENT_URL}/escalations/{body['id']}", headers=mate).status_code
        == 200
    )
    sent = client.post(
        f"{AGENT_URL}/conversations/{desk.conversation.id}/messages",
        json={"text": "插话"},
        headers=mate,
    )
    assert sent.status_code == 403
