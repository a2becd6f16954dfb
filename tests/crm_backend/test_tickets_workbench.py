"""The complaints workbench verbs (update, request-info, propose, resolve with a
remedy) and the customer notices they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.models import Agent, Team, Ticket
from crm_backend.models.enums import AgentRole, TicketStatus
from tests.factories import login, make_agent, make_customer, make_team, make_ticket

NOW = datetime(2025, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
AGENT_TICKETS = "/api/v1/agent/tickets"
SERVICE = "/api/v1/service"


@pytest.fixture()
def people(session: Session, desk: Team) -> dict[str, Agent]:
    """A complaints agent, an agent of another team and a supervisor."""
    other = make_team(session, code="general", topics=["general"])
    return {
        "desk": make_agent(session, team=desk, name="周静"),
        "outsider": make_agent(session, team=other, name="孙强"),
        "boss": make_agent(
            session, team=other, role=AgentRole.supervisor, name="钱主管"
        ),
    }


@pytest.fixture()
def ticket(session: Session, desk: Team, time_machine: Any) -> Ticket:
    """A received ticket of the complaints desk; time stands still at ``NOW``."""
    time_machine.move_to(NOW, tick=False)
    return make_ticket(session, customer=make_customer(session), team=desk)


def _post(
    client: TestClient, headers: dict[str, str], ticket: Ticket, verb: str, **body: Any
) -> Any:
    return client.post(
        f"{AGENT_TICKETS}/{ticket.id}/{verb}", json=body, headers=headers
    )


def _notices(
    client: TestClient, service_headers: dict[str, str], customer_id: int, **q: Any
) -> list[dict[str, Any]]:
    res = client.get(
        f"{SERVICE}/customers/{customer_id}/notices", params=q, headers=service_headers
    )
    assert res.status_code == 200, res.text
    return list(res.json()["items"])


def test_workbench_verbs_leave_events_and_notices(
    client: TestClient,
    ticket: Ticket,
    people: dict[str, Agent],
    service_headers: dict[str, str],
) -> None:
    agent = people["desk"]
    headers = login(client, agent)
    # update needs an acknowledged ticket
    assert _post(client, headers, ticket, "update", text="已在核实").status_code == 409
    assert _post(client, headers, ticket, "acknowledge").status_code == 200

    body = _post(client, headers, ticket, "update", text="已联系理赔部门核实").json()
    assert body["status"] == "acknowledged"
    assert body["customer_updated_at"] is not None
    assert body["events"][-1]["kind"] == "update"
    assert body["events"][-1]["actor_id"] == agent.id
    assert body["events"][-1]["customer_visible"] is True

    body = _post(client, headers, ticket, "request-info", text="请提供医院发票").json()
    assert body["status"] == "acknowledged"
    assert body["info_requested_at"] is not None
    assert body["events"][-1]["kind"] == "info_requested"

    body = _post(
        client, headers, ticket, "propose", proposal="补偿理赔款 500 元"
    ).json()
    assert body["status"] == "acknowledged"
    assert body["proposal"] == "补偿理赔款 500 元" and body["proposed_at"] is not None

    res = _post(
        client,
        headers,
        ticket,
        "resolve",
        outcome="已补发理赔款",
        remedy="refund",
        refund_fen=50050,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["status"], body["remedy"], body["refund_fen"]) == (
        "resolved",
        "refund",
        50050,
    )

    texts = [n["text"] for n in _notices(client, service_headers, ticket.customer_id)]
    no = ticket.ticket_no
    assert texts == [
        f"您的投诉 {no} 已于11月25日 14:00 确认受理，专人正在跟进。",
        f"您的投诉 {no} 有新进展（11月25日 14:00）：已联系理赔部门核实",
        f"您的投诉 {no} 需要您补充信息（11月25日 14:00）：请提供医院发票。"
        "请回复本消息或联系客服。",
        f"您的投诉 {no} 的处理方案（11月25日 14:00）：补偿理赔款 500 元。"
        "请告诉我们您是否接受。",
        f"您的投诉 {no} 已于11月25日 14:00 处理完毕：已补发理赔款（退款 ¥500.50）",
    ]

    # the customer's follow-up shows the new steps with their labels
    follow = client.get(
        f"{SERVICE}/tickets/{no}",
        params={"customer_id": ticket.customer_id},
        headers=service_headers,
    ).json()
    labels = [e["label"] for e in follow["events"]]
    assert "需要您补充材料" in labels and "处理方案待您确认" in labels

    # reopen (the customer disagrees) clears the remedy
    body = _post(client, headers, ticket, "reopen", reason="客户不接受金额").json()
    assert body["status"] == "investigating" and body["remedy"] is None
    assert body["refund_fen"] is None


def test_resolve_remedy_rules(
    client: TestClient, session: Session, ticket: Ticket, people: dict[str, Agent]
) -> None:
    headers = login(client, people["desk"])
    _post(client, headers, ticket, "acknowledge")
    refund = _post(client, headers, ticket, "resolve", outcome="退款", remedy="refund")
    assert refund.status_code == 422
    assert (
        _post(
            client,
            headers,
            ticket,
            "resolve",
            outcome="x",
            remedy="refund",
            refund_fen=0,
        ).status_code
        == 422
    )
    rejected = _post(
        client, headers, ticket, "resolve", outcome="不予支持", remedy="rejected"
    )
    assert rejected.status_code == 422
    session.refresh(ticket)
    assert ticket.status == TicketStatus.acknowledged
    body = _post(
        client,
        headers,
        ticket,
        "resolve",
        outcome="经核实不予支持",
        remedy="rejected",
        remedy_reason="不在保险责任范围内",
    ).json()
    assert (body["remedy"], body["remedy_reason"]) == ("rejected", "不在保险责任范围内")
    # the old form (outcome only) still works for the console
    other = make_ticket(
        session, customer=make_customer(session), team=ticket_team(session, ticket)
    )
    _post(client, headers, other, "acknowledge")
    assert (
        _post(client, headers, other, "resolve", outcome="已处理").json()["remedy"]
        is None
    )


def ticket_team(session: Session, ticket: Ticket) -> Team:
    team = session.get(Team, ticket.team_id)
    assert team is not None
    return team


def test_only_the_team_and_supervisors_may_act(
    client: TestClient, ticket: Ticket, people: dict[str, Agent]
) -> None:
    outsider = login(client, people["outsider"])
    _post(client, login(client, people["desk"]), ticket, "acknowledge")
    for verb, body in (
        ("update", {"text": "x"}),
        ("request-info", {"text": "x"}),
        ("propose", {"proposal": "x"}),
    ):
        assert _post(client, outsider, ticket, verb, **body).status_code == 403
    boss = login(client, people["boss"])
    assert _post(client, boss, ticket, "update", text="主管跟进").status_code == 200


def test_notices_undelivered_and_marked_delivered(
    client: TestClient,
    ticket: Ticket,
    people: dict[str, Agent],
    service_headers: dict[str, str],
) -> None:
    headers = login(client, people["desk"])
    _post(client, headers, ticket, "acknowledge")
    _post(client, headers, ticket, "update", text="处理中")
    customer = ticket.customer_id
    first, second = _notices(client, service_headers, customer, undelivered=1)
    assert first["channel"] == ticket.channel and first["delivered_at"] is None
    url = f"{SERVICE}/customers/{customer}/notices/{first['id']}/delivered"
    res = client.post(url, json={"channel": "wechat"}, headers=service_headers)
    assert res.status_code == 200, res.text
    assert res.json()["delivered_at"] is not None and res.json()["channel"] == "wechat"
    again = client.post(url, headers=service_headers).json()
    assert again["delivered_at"] == res.json()["delivered_at"]
    assert [
        n["id"] for n in _notices(client, service_headers, customer, undelivered=1)
    ] == [second["id"]]
    assert len(_notices(client, service_headers, customer)) == 2
    # an unknown customer, no token
    wrong = f"{SERVICE}/customers/{customer + 999}/notices/{first['id']}/delivered"
    assert client.post(wrong, headers=service_headers).status_code == 404
    assert (
        client.get(
            f"{SERVICE}/customers/{customer + 999}/notices", headers=service_headers
        ).status_code
        == 404
    )
    assert client.get(f"{SERVICE}/customers/{customer}/notices").status_code in (
        401,
        403,
    )


def test_received_and_close_leave_no_notice(
    client: TestClient,
    ticket: Ticket,
    people: dict[str, Agent],
    service_headers: dict[str, str],
) -> None:
    assert _notices(client, service_headers, ticket.customer_id) == []
    headers = login(client, people["desk"])
    _post(client, headers, ticket, "acknowledge")
    _post(client, headers, ticket, "resolve", outcome="已处理", remedy="apology")
    _post(client, headers, ticket, "close")
    texts = [n["text"] for n in _notices(client, service_headers, ticket.customer_id)]
    assert len(texts) == 2 and texts[-1].endswith("已处理（我们向您郑重致歉）")


def test_a_third_complaint_in_90_days_weighs_more(session: Session) -> None:
    from crm_backend.models.enums import Severity
    from crm_backend.tickets import service

    customer = make_customer(session)
    make_ticket(session, customer=customer, created_at=NOW - timedelta(days=80))
    score, reasons = service.score_priority(
        session, customer_id=customer.id, severity=Severity.medium, now=NOW
    )
    assert (score, reasons[-1]) == (55, "90天内重复投诉 +15")
    make_ticket(session, customer=customer, created_at=NOW - timedelta(days=10))
    make_ticket(session, customer=customer, created_at=NOW - timedelta(days=100))
    score, reasons = service.score_priority(
        session, customer_id=customer.id, severity=Severity.medium, now=NOW
    )
    assert (score, reasons[-1]) == (65, "90天内第3次投诉 +25")


def test_supervisor_stats_by_team_and_category(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    time_machine: Any,
) -> None:
    from crm_backend.models.enums import TicketCategory

    time_machine.move_to(NOW, tick=False)
    customer = make_customer(session)
    day = timedelta(days=1)
    # acknowledged after 2h, resolved after 2 days
    done = make_ticket(
        session,
        customer=customer,
        team=desk,
        created_at=NOW - 3 * day,
        status=TicketStatus.resolved,
    )
    done.acknowledged_at = done.created_at + timedelta(hours=2)
    done.resolved_at = done.created_at + 2 * day
    # open, acknowledged after 4h, breached
    late = make_ticket(
        session,
        customer=customer,
        team=desk,
        created_at=NOW - 2 * day,
        status=TicketStatus.investigating,
        category=TicketCategory.billing,
    )
    late.acknowledged_at = late.created_at + timedelta(hours=4)
    late.ack_breached = True
    # an old open ticket without team: backlog only
    make_ticket(session, customer=customer, created_at=NOW - 60 * day)
    session.flush()

    assert (
        client.get(
            f"{AGENT_TICKETS}/stats", headers=login(client, people["desk"])
        ).status_code
        == 403
    )
    res = client.get(f"{AGENT_TICKETS}/stats", headers=login(client, people["boss"]))
    assert res.status_code == 200, res.text
    body = res.json()
    overall = body["overall"]
    assert (overall["backlog"], overall["opened"], overall["breached"]) == (2, 2, 1)
    assert overall["breach_rate"] == 0.5
    assert overall["avg_ack_hours"] == 3.0 and overall["avg_resolve_hours"] == 48.0
    teams = {b["label"]: b for b in body["by_team"]}
    assert teams["投诉处理组"]["backlog"] == 1 and teams["投诉处理组"]["opened"] == 2
    assert teams["未分配"]["backlog"] == 1 and teams["未分配"]["breach_rate"] is None
    cats = {b["key"]: b for b in body["by_category"]}
    assert cats["billing"]["breach_rate"] == 1.0
    assert cats["service_attitude"]["avg_resolve_hours"] == 48.0


def test_a_departing_agent_s_open_tickets_go_back_to_the_team_queue(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    ticket: Ticket,
) -> None:
    leaver = people["desk"]
    mate = make_agent(session, team=desk, name="吴敏")
    ticket.assignee_id = leaver.id
    ticket.status = TicketStatus.investigating
    done = make_ticket(
        session,
        customer=make_customer(session),
        team=desk,
        assignee=leaver,
        status=TicketStatus.closed,
    )
    session.flush()
    boss = login(client, people["boss"])
    response = client.post(
        f"/api/v1/agent/agents/{leaver.id}/depart", json={}, headers=boss
    )
    assert response.status_code == 200, response.text
    assert response.json()["tickets_released"] == 1
    session.refresh(ticket)
    session.refresh(done)
    assert ticket.assignee_id is None and ticket.team_id == desk.id
    assert ticket.status == TicketStatus.investigating  # the work goes on
    assert done.assignee_id == leaver.id  # a closed ticket's history stays as it was
    # the desk finds it in its queue, with the reason in the log
    detail = client.get(f"{AGENT_TICKETS}/{ticket.id}", headers=login(client, mate))
    assert detail.status_code == 200, detail.text
    last = detail.json()["events"][-1]
    assert last["kind"] == "assigned" and last["assigned_agent"] is None
    assert last["assigned_team"] == "投诉处理组"
    assert last["assign_note"] == "处理人周静已离职，工单退回团队队列"
