"""Complaint tickets: SLA, opening, follow-up, the agent lifecycle and breaches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict
from crm_backend.models import (
    Agent,
    Customer,
    CustomerScore,
    CustomerSignal,
    SlaPolicy,
    Team,
    Ticket,
    TicketEvent,
)
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    RiskLevel,
    Severity,
    SignalKind,
    TicketCategory,
    TicketStatus,
    ValueTier,
)
from crm_backend.tickets import lifecycle, service, sla
from crm_backend.tickets.schemas import TicketCreate
from tests.factories import (
    login,
    make_agent,
    make_conversation,
    make_customer,
    make_policy,
    make_team,
    make_ticket,
)

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
TICKETS = "/api/v1/service/tickets"
AGENT_TICKETS = "/api/v1/agent/tickets"


@pytest.fixture()
def frozen(time_machine: Any) -> datetime:
    """Time stands still at ``NOW``."""
    time_machine.move_to(NOW, tick=False)
    return NOW


def _open(
    client: TestClient, headers: dict[str, str], customer: Customer, **extra: Any
) -> Any:
    body = {
        "customer_id": customer.id,
        "category": "claim_dispute",
        "description": "理赔申请提交一个月了还没有结果",
        "desired_outcome": "尽快赔付",
        "channel": "web",
        **extra,
    }
    return client.post(TICKETS, json=body, headers=headers)


def _create(
    session: Session, customer: Customer, settings: Settings, **kw: Any
) -> Ticket:
    ticket_in = TicketCreate(
        customer_id=customer.id,
        category=kw.pop("category", TicketCategory.service_attitude),
        description=kw.pop("description", "服务人员态度很差"),
        **kw,
    )
    return service.create(session, ticket_in=ticket_in, settings=settings)


def _events(
    session: Session, ticket_id: int, kind: str | None = None
) -> list[TicketEvent]:
    rows = service.events(session, ticket_id=ticket_id)
    return [e for e in rows if kind is None or e.kind == kind]


# --- SLA -------------------------------------------------------------------------


def test_deadlines_default_to_one_and_fifteen_days(settings: Settings) -> None:
    ack, resolve = sla.deadlines(NOW, policy=None, settings=settings)
    assert ack == NOW + timedelta(days=1)
    assert resolve == NOW + timedelta(days=15)


def test_deadlines_follow_settings_and_policy_rows(settings: Settings) -> None:
    custom = Settings(environment="test", ticket_ack_hours=4, ticket_resolve_days=7)
    assert sla.deadlines(NOW, policy=None, settings=custom) == (
        NOW + timedelta(hours=4),
        NOW + timedelta(days=7),
    )
    row = SlaPolicy(ack_hours=2, resolve_hours=72)
    assert sla.deadlines(NOW, policy=row, settings=settings) == (
        NOW + timedelta(hours=2),
        NOW + timedelta(hours=72),
    )


def test_sla_policy_most_specific_row_wins(session: Session) -> None:
    cat, sev = TicketCategory.claim_dispute, Severity.high

    def found() -> int | None:
        row = sla.find_policy(session, category=cat, severity=sev)
        return row.ack_hours if row else None

    assert found() is None
    rows = [
        SlaPolicy(category=None, severity=None, ack_hours=40, resolve_hours=400),
        SlaPolicy(category=None, severity=sev, ack_hours=30, resolve_hours=300),
        SlaPolicy(category=cat, severity=None, ack_hours=20, resolve_hours=200),
        SlaPolicy(category=cat, severity=sev, ack_hours=10, resolve_hours=100),
        # rows for other combinations never apply
        SlaPolicy(
            category=TicketCategory.billing, severity=sev, ack_hours=1, resolve_hours=1
        ),
        SlaPolicy(category=cat, severity=Severity.low, ack_hours=2, resolve_hours=2),
    ]
    session.add_all(rows)
    session.flush()
    for expected, row in zip((10, 20, 30, 40), reversed(rows[:4]), strict=True):
        assert found() == expected
        session.delete(row)
        session.flush()
    assert found() is None


def test_create_uses_the_policy_row_for_deadlines(
    client: TestClient,
    service_headers: dict[str, str],
    session: Session,
    frozen: datetime,
) -> None:
    session.add(
        SlaPolicy(
            category=TicketCategory.claim_dispute,
            severity=None,
            ack_hours=4,
            resolve_hours=120,
        )
    )
    session.flush()
    body = _open(client, service_headers, make_customer(session)).json()
    assert datetime.fromisoformat(body["ack_due_at"]) == NOW + timedelta(hours=4)
    assert datetime.fromisoformat(body["resolve_due_at"]) == NOW + timedelta(days=5)


# --- opening a ticket --------------------------------------------------------------


def test_create_ticket(
    client: TestClient,
    service_headers: dict[str, str],
    session: Session,
    frozen: datetime,
    desk: Team,
) -> None:
    customer = make_customer(session)
    policy = make_policy(session, holder=customer)
    conversation = make_conversation(session, customer=customer)
    response = _open(
        client,
        service_headers,
        customer,
        policy_no=policy.policy_no,
        conversation_id=conversation.id,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ticket_no"] == "T202503100001"
    assert (body["status"], body["status_label"]) == ("received", "已受理")
    assert (body["category"], body["category_label"]) == ("claim_dispute", "理赔争议")
    assert (body["severity"], body["severity_label"]) == ("medium", "中")
    assert datetime.fromisoformat(body["ack_due_at"]) == NOW + timedelta(days=1)
    assert datetime.fromisoformat(body["resolve_due_at"]) == NOW + timedelta(days=15)

    ticket = session.scalars(
        select(Ticket).where(Ticket.ticket_no == body["ticket_no"])
    ).one()
    assert ticket.policy_id == policy.id
    assert ticket.conversation_id == conversation.id
    assert ticket.team_id == desk.id
    assert ticket.assignee_id is None
    assert ticket.priority == 40
    assert json.loads(ticket.priority_reasons or "[]") == ["严重程度中：基础分40"]
    [event] = _events(session, ticket.id)
    assert (event.kind, event.to_status, event.customer_visible) == (
        "received",
        TicketStatus.received,
        True,
    )
    signal = session.scalars(
        select(CustomerSignal).where(CustomerSignal.customer_id == customer.id)
    ).one()
    assert signal.kind == SignalKind.complaint
    assert signal.conversation_id == conversation.id
    assert body["ticket_no"] in (signal.detail or "")
    # the analytics recompute ran and counted the open complaint
    score = session.get(CustomerScore, customer.id)
    assert score is not None
    assert "open_complaints" in {r["code"] for r in score.churn_reasons}


def test_ticket_numbers_are_daily_sequences_in_china_time(
    session: Session, settings: Settings, time_machine: Any
) -> None:
    customer = make_customer(session)
    time_machine.move_to(datetime(2025, 3, 1, 15, 59, tzinfo=UTC), tick=False)
    first = _create(session, customer, settings)
    second = _create(session, customer, settings)
    # 16:00 UTC is midnight in Beijing: a new day, a new sequence
    time_machine.move_to(datetime(2025, 3, 1, 16, 0, tzinfo=UTC), tick=False)
    third = _create(session, customer, settings)
    assert [first.ticket_no, second.ticket_no, third.ticket_no] == [
        "T202503010001",
        "T202503010002",
        "T202503020001",
    ]


def test_ticket_number_sequence_passes_9999(session: Session, frozen: datetime) -> None:
    customer = make_customer(session)
    ticket = make_ticket(session, customer=customer)
    ticket.ticket_no = "T202503109999"
    session.flush()
    assert service.next_ticket_no(session, at=NOW) == "T2025031010000"
    ticket.ticket_no = "T2025031010000"
    session.flush()
    assert service.next_ticket_no(session, at=NOW) == "T2025031010001"


def test_ticket_number_race_retries_with_the_next_number(
    session: Session, settings: Settings, frozen: datetime, monkeypatch: Any
) -> None:
    customer = make_customer(session)
    taken = _create(session, customer, settings)
    real = service.next_ticket_no
    calls: list[str] = []

    def racing(session: Session, *, at: datetime) -> str:
        # the first call returns what a concurrent request has just taken
        number = taken.ticket_no if not calls else real(session, at=at)
        calls.append(number)
        return number

    monkeypatch.setattr(service, "next_ticket_no", racing)
    ticket = _create(session, customer, settings)
    assert calls == ["T202503100001", "T202503100002"]
    assert ticket.ticket_no == "T202503100002"
    numbers = session.scalars(
        select(Ticket.ticket_no).where(Ticket.customer_id == customer.id)
    )
    assert sorted(numbers) == ["T202503100001", "T202503100002"]


def test_ticket_number_gives_up_after_repeated_collisions(
    session: Session, settings: Settings, frozen: datetime, monkeypatch: Any
) -> None:
    customer = make_customer(session)
    taken = _create(session, customer, settings)
    monkeypatch.setattr(
        service, "next_ticket_no", lambda session, *, at: taken.ticket_no
    )
    with pytest.raises(Conflict):
        _create(session, customer, settings)
    assert (
        session.scalar(
            select(Ticket.id).where(
                Ticket.id != taken.id, Ticket.customer_id == customer.id
            )
        )
        is None
    )


def test_policy_must_belong_to_the_customer(
    client: TestClient, service_headers: dict[str, str], session: Session
) -> None:
    customer, other = make_customer(session), make_customer(session)
    others = make_policy(session, holder=other)
    insured_only = make_policy(session, holder=other, insured=customer)
    response = _open(client, service_headers, customer, policy_no=others.policy_no)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "policy_mismatch"
    assert _open(client, service_headers, customer, policy_no="P404").status_code == 422
    ok = _open(client, service_headers, customer, policy_no=insured_only.policy_no)
    assert ok.status_code == 201
    assert (
        session.scalar(
            select(Ticket.policy_id).where(Ticket.customer_id == customer.id)
        )
        == insured_only.id
    )


def test_create_refusals(
    client: TestClient, service_headers: dict[str, str], session: Session
) -> None:
    customer = make_customer(session)
    assert _open(client, {}, customer).status_code == 401
    missing = client.post(
        TICKETS,
        json={"customer_id": 999_999, "category": "other", "description": "x"},
        headers=service_headers,
    )
    assert missing.status_code == 404
    assert (
        _open(client, service_headers, customer, conversation_id=999_999).status_code
        == 422
    )
    assert (
        _open(client, service_headers, customer, category="nonsense").status_code == 422
    )
    assert _open(client, service_headers, customer, description="").status_code == 422
    assert (
        session.scalar(select(Ticket.id).where(Ticket.customer_id == customer.id))
        is None
    )


def test_category_accepts_the_chinese_label(
    client: TestClient, service_headers: dict[str, str], session: Session
) -> None:
    body = _open(
        client, service_headers, make_customer(session), category="销售误导"
    ).json()
    assert (body["category"], body["category_label"]) == (
        "sales_misconduct",
        "销售误导",
    )


@pytest.mark.parametrize(
    ("given", "description", "expected"),
    [
        (None, "客服电话一直打不通", Severity.medium),
        (None, "再不处理我就投诉到银保监", Severity.high),
        (None, "我要打12378", Severity.high),
        (Severity.low, "我要找媒体曝光你们", Severity.high),
        (Severity.critical, "我要起诉", Severity.critical),
        (Severity.low, "小问题", Severity.low),
    ],
)
def test_severity_defaults_and_critical_words(
    given: Severity | None, description: str, expected: Severity
) -> None:
    severity, reasons = service.infer_severity(description, given)
    assert severity == expected
    assert bool(reasons) == (expected != (given or Severity.medium))


def test_no_complaints_team_leaves_team_empty(
    session: Session, settings: Settings
) -> None:
    make_team(session, topics=["general"])
    assert _create(session, make_customer(session), settings).team_id is None


def test_vip_repeated_and_churn_raise_priority(
    client: TestClient,
    service_headers: dict[str, str],
    session: Session,
    frozen: datetime,
) -> None:
    plain = make_customer(session)
    vip = make_customer(session)
    session.add(
        CustomerScore(
            customer_id=vip.id, value_tier=ValueTier.vip, churn_risk=RiskLevel.high
        )
    )
    make_ticket(session, customer=vip, created_at=NOW - timedelta(days=60))
    old = make_customer(session)
    make_ticket(session, customer=old, created_at=NOW - timedelta(days=91))
    session.flush()

    def opened(customer: Customer, **extra: Any) -> Ticket:
        number = _open(client, service_headers, customer, **extra).json()["ticket_no"]
        return session.scalars(select(Ticket).where(Ticket.ticket_no == number)).one()

    assert opened(plain).priority == 40
    assert opened(old).priority == 40  # the earlier complaint is older than 90 days
    ticket = opened(vip)
    assert ticket.priority == 40 + 20 + 15 + 10
    assert json.loads(ticket.priority_reasons or "[]") == [
        "严重程度中：基础分40",
        "VIP客户 +20",
        "90天内重复投诉 +15",
        "流失风险高 +10",
    ]
    # the plain customer's second complaint is a repeat, and a threat raises severity
    again = opened(plain, description="再不解决我就起诉")
    assert again.severity == Severity.high
    assert again.priority == 60 + 15
    reasons = json.loads(again.priority_reasons or "[]")
    assert reasons[0] == "投诉内容涉及“起诉”，严重程度上调为高"
    assert reasons[1:] == ["严重程度高：基础分60", "90天内重复投诉 +15"]


def test_priority_caps_at_100_and_counts_gold(
    session: Session, frozen: datetime
) -> None:
    customer = make_customer(session)
    session.add(
        CustomerScore(
            customer_id=customer.id,
            value_tier=ValueTier.gold,
            churn_risk=RiskLevel.high,
        )
    )
    make_ticket(session, customer=customer)
    score, reasons = service.score_priority(
        session, customer_id=customer.id, severity=Severity.critical, now=NOW
    )
    assert score == 100
    assert "黄金客户 +20" in reasons


# --- follow-up through the service API ----------------------------------------------


def test_follow_up_shows_only_customer_visible_events(
    client: TestClient,
    service_headers: dict[str, str],
    session: Session,
    desk: Team,
) -> None:
    customer = make_customer(session)
    agent = make_agent(session, team=desk)
    number = _open(client, service_headers, customer).json()["ticket_no"]
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == number)).one()
    headers = login(client, agent)
    client.post(
        f"{AGENT_TICKETS}/{ticket.id}/acknowledge",
        json={"note": "已联系理赔部门"},
        headers=headers,
    )
    client.post(
        f"{AGENT_TICKETS}/{ticket.id}/notes",
        json={"text": "客户情绪激动"},
        headers=headers,
    )
    client.post(
        f"{AGENT_TICKETS}/{ticket.id}/notes",
        json={"text": "材料已补齐，预计三天内结案", "customer_visible": True},
        headers=headers,
    )
    client.post(
        f"{AGENT_TICKETS}/{ticket.id}/resolve",
        json={"outcome": "已加急赔付"},
        headers=headers,
    )

    response = client.get(
        f"{TICKETS}/{number.lower()}",
        params={"customer_id": customer.id},
        headers=service_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["status_label"]) == ("resolved", "已解决")
    assert body["outcome"] == "已加急赔付"
    assert body["description"] == "理赔申请提交一个月了还没有结果"
    seen = [(e["kind"], e["note"]) for e in body["events"]]
    assert seen == [
        ("received", None),
        ("acknowledged", "已联系理赔部门"),
        ("note", "材料已补齐，预计三天内结案"),
        ("resolved", "已加急赔付"),
    ]
    assert body["events"][0]["label"] == "投诉已受理"


def test_customer_cannot_read_another_customers_ticket(
    client: TestClient, service_headers: dict[str, str], session: Session
) -> None:
    a, b = make_customer(session), make_customer(session)
    number = _open(client, service_headers, a).json()["ticket_no"]
    url = f"{TICKETS}/{number}"
    assert (
        client.get(
            url, params={"customer_id": a.id}, headers=service_headers
        ).status_code
        == 200
    )
    other = client.get(url, params={"customer_id": b.id}, headers=service_headers)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    missing = client.get(
        f"{TICKETS}/T000", params={"customer_id": a.id}, headers=service_headers
    )
    assert missing.status_code == 404
    assert (
        client.get(url, headers=service_headers).status_code == 422
    )  # customer_id required
    assert client.get(url, params={"customer_id": a.id}).status_code == 401


def test_customer_ticket_list_open_first_newest_first(
    client: TestClient, service_headers: dict[str, str], session: Session
) -> None:
    customer = make_customer(session)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    old_open = make_ticket(session, customer=customer, created_at=base)
    new_closed = make_ticket(
        session,
        customer=customer,
        status=TicketStatus.closed,
        created_at=base + timedelta(days=3),
    )
    new_open = make_ticket(
        session,
        customer=customer,
        status=TicketStatus.investigating,
        created_at=base + timedelta(days=2),
    )
    old_resolved = make_ticket(
        session,
        customer=customer,
        status=TicketStatus.resolved,
        created_at=base - timedelta(days=9),
    )
    make_ticket(session, customer=make_customer(session))
    url = f"/api/v1/service/customers/{customer.id}/tickets"
    body = client.get(url, headers=service_headers).json()
    assert [t["ticket_no"] for t in body["items"]] == [
        new_open.ticket_no,
        old_open.ticket_no,
        new_closed.ticket_no,
        old_resolved.ticket_no,
    ]
    assert body["open_count"] == 2
    assert body["items"][0]["status_label"] == "处理中"
    assert (
        client.get(
            "/api/v1/service/customers/999999/tickets", headers=service_headers
        ).status_code
        == 404
    )


# --- agent API -----------------------------------------------------------------------


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


def test_agent_list_visibility_filters_and_order(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    frozen: datetime,
) -> None:
    customer = make_customer(session)
    base = NOW
    late = make_ticket(
        session, customer=customer, team=desk, created_at=base + timedelta(days=5)
    )
    soon = make_ticket(
        session,
        customer=customer,
        team=desk,
        created_at=base,
        category=TicketCategory.billing,
    )
    theirs = make_ticket(
        session, customer=customer, created_at=base + timedelta(days=1)
    )
    assigned = make_ticket(
        session,
        customer=customer,
        assignee=people["outsider"],
        severity=Severity.high,
        created_at=base + timedelta(days=2),
    )
    soon.resolve_breached = True
    session.flush()

    headers = {key: login(client, agent) for key, agent in people.items()}

    def ids(who: str, **params: Any) -> list[int]:
        response = client.get(AGENT_TICKETS, params=params, headers=headers[who])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [t["id"] for t in body["items"]]

    assert ids("boss") == [soon.id, theirs.id, assigned.id, late.id]
    assert ids("desk") == [soon.id, late.id]
    assert ids("outsider") == [assigned.id]
    assert ids("outsider", mine=True) == [assigned.id]
    assert ids("desk", mine=True) == []
    assert ids("boss", team=desk.id) == [soon.id, late.id]
    assert ids("boss", category="billing") == [soon.id]
    assert ids("boss", severity="high") == [assigned.id]
    assert ids("boss", breached=True) == [soon.id]
    assert ids("boss", breached=False, status=["received"]) == [
        theirs.id,
        assigned.id,
        late.id,
    ]
    assert ids("boss", status=["closed"]) == []
    item = client.get(AGENT_TICKETS, headers=headers["desk"]).json()["items"][0]
    assert item["customer_name"] == customer.name
    assert item["category_label"] == "扣费缴费"
    page = client.get(
        AGENT_TICKETS, params={"limit": 2, "offset": 1}, headers=headers["boss"]
    ).json()
    assert [t["id"] for t in page["items"]] == [theirs.id, assigned.id]
    assert page["total"] == 4
    assert client.get(AGENT_TICKETS).status_code == 401


def test_breached_filter_counts_overdue_tickets_not_yet_flagged(
    session: Session, desk: Team, people: dict[str, Agent], frozen: datetime
) -> None:
    customer = make_customer(session)
    overdue = make_ticket(
        session, customer=customer, team=desk, created_at=NOW - timedelta(days=2)
    )
    make_ticket(session, customer=customer, team=desk, created_at=NOW)
    rows, total = service.list_for_agent(session, agent=people["desk"], breached=True)
    assert ([row[0].id for row in rows], total) == ([overdue.id], 1)
    assert overdue.ack_breached is False


def test_agent_reads_a_ticket_with_its_log(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    ticket = make_ticket(session, customer=make_customer(session), team=desk)
    url = f"{AGENT_TICKETS}/{ticket.id}"
    body = client.get(url, headers=login(client, people["desk"])).json()
    assert body["ticket_no"] == ticket.ticket_no
    assert body["events"] == []
    assert client.get(url, headers=login(client, people["boss"])).status_code == 200
    outsider = login(client, people["outsider"])
    refused = client.get(url, headers=outsider)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert client.post(f"{url}/acknowledge", headers=outsider).status_code == 403
    assert client.get(f"{AGENT_TICKETS}/999999", headers=outsider).status_code == 404


def test_lifecycle_through_every_verb(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    agent = people["desk"]
    ticket = make_ticket(session, customer=make_customer(session), team=desk)
    url = f"{AGENT_TICKETS}/{ticket.id}"
    headers = login(client, agent)

    acked = client.post(f"{url}/acknowledge", headers=headers)
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert (body["status"], body["status_label"]) == ("acknowledged", "已确认")
    assert body["acknowledged_at"] is not None
    assert body["assignee_id"] == agent.id  # the acknowledging agent owns it
    event = body["events"][-1]
    assert (
        event["kind"],
        event["from_status"],
        event["to_status"],
        event["actor_id"],
    ) == (
        "acknowledged",
        "received",
        "acknowledged",
        agent.id,
    )

    body = client.post(
        f"{url}/investigate", json={"note": "调取录音"}, headers=headers
    ).json()
    assert body["status"] == "investigating" and body["investigating_at"] is not None
    assert body["events"][-1]["note"] == "调取录音"

    body = client.post(
        f"{url}/resolve", json={"outcome": "道歉并补偿"}, headers=headers
    ).json()
    assert (body["status"], body["outcome"]) == ("resolved", "道歉并补偿")
    assert body["resolved_at"] is not None

    body = client.post(f"{url}/close", headers=headers).json()
    assert body["status"] == "closed" and body["closed_at"] is not None

    body = client.post(
        f"{url}/reopen", json={"reason": "客户不认可"}, headers=headers
    ).json()
    assert body["status"] == "investigating"
    assert (
        body["outcome"] is None
        and body["resolved_at"] is None
        and body["closed_at"] is None
    )
    assert body["events"][-1]["kind"] == "reopened"
    assert body["events"][-1]["note"] == "客户不认可"

    body = client.post(
        f"{url}/resolve", json={"outcome": "全额退费"}, headers=headers
    ).json()
    assert body["status"] == "resolved"
    body = client.post(
        f"{url}/reopen", json={"reason": "仍未到账"}, headers=headers
    ).json()
    assert body["status"] == "investigating"

    kinds = [e["kind"] for e in body["events"]]
    assert kinds == [
        "acknowledged",
        "investigating",
        "resolved",
        "closed",
        "reopened",
        "resolved",
        "reopened",
    ]
    assert all(e["actor_id"] == agent.id for e in body["events"])
    session.refresh(ticket)
    assert ticket.status == TicketStatus.investigating


def test_resolve_straight_from_acknowledged(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    ticket = make_ticket(
        session,
        customer=make_customer(session),
        team=desk,
        status=TicketStatus.acknowledged,
    )
    url = f"{AGENT_TICKETS}/{ticket.id}"
    headers = login(client, people["desk"])
    assert client.post(f"{url}/resolve", json={}, headers=headers).status_code == 422
    response = client.post(
        f"{url}/resolve", json={"outcome": "已解释清楚"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"


@pytest.mark.parametrize(
    ("status", "verb", "body"),
    [
        (TicketStatus.received, "investigate", None),
        (TicketStatus.received, "resolve", {"outcome": "x"}),
        (TicketStatus.received, "close", None),
        (TicketStatus.received, "reopen", {"reason": "x"}),
        (TicketStatus.acknowledged, "acknowledge", None),
        (TicketStatus.acknowledged, "close", None),
        (TicketStatus.investigating, "investigate", None),
        (TicketStatus.investigating, "reopen", {"reason": "x"}),
        (TicketStatus.resolved, "resolve", {"outcome": "x"}),
        (TicketStatus.resolved, "acknowledge", None),
        (TicketStatus.closed, "close", None),
        (TicketStatus.closed, "investigate", None),
        (TicketStatus.closed, "assign", None),
    ],
)
def test_invalid_transitions_are_conflicts(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    status: TicketStatus,
    verb: str,
    body: dict[str, Any] | None,
) -> None:
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, status=status
    )
    if verb == "assign":
        body = {"agent_id": people["desk"].id}
    response = client.post(
        f"{AGENT_TICKETS}/{ticket.id}/{verb}",
        json=body,
        headers=login(client, people["desk"]),
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "invalid_transition"
    session.refresh(ticket)
    assert ticket.status == status
    assert _events(session, ticket.id) == []


def test_reopen_needs_a_reason(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, status=TicketStatus.closed
    )
    response = client.post(
        f"{AGENT_TICKETS}/{ticket.id}/reopen",
        json={},
        headers=login(client, people["desk"]),
    )
    assert response.status_code == 422


def test_assign(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    ticket = make_ticket(session, customer=make_customer(session), team=desk)
    url = f"{AGENT_TICKETS}/{ticket.id}/assign"
    boss = login(client, people["boss"])
    outsider = people["outsider"]

    body = client.post(
        url, json={"agent_id": outsider.id, "note": "熟悉该客户"}, headers=boss
    ).json()
    assert (body["assignee_id"], body["team_id"]) == (outsider.id, outsider.team_id)
    event = body["events"][-1]
    assert (event["kind"], event["actor_id"], event["customer_visible"]) == (
        "assigned",
        people["boss"].id,
        False,
    )
    assert "熟悉该客户" in event["note"]
    # the outsider now holds it; the complaints desk no longer sees it
    assert (
        client.get(
            f"{AGENT_TICKETS}/{ticket.id}", headers=login(client, outsider)
        ).status_code
        == 200
    )
    desk_headers = login(client, people["desk"])
    assert (
        client.get(f"{AGENT_TICKETS}/{ticket.id}", headers=desk_headers).status_code
        == 403
    )

    body = client.post(url, json={"team_id": desk.id}, headers=boss).json()
    assert (body["assignee_id"], body["team_id"]) == (outsider.id, desk.id)

    departed = make_agent(session, team=desk, status=AgentStatus.departed)
    assert client.post(url, json={}, headers=boss).status_code == 422
    assert client.post(url, json={"agent_id": 999_999}, headers=boss).status_code == 422
    assert (
        client.post(url, json={"agent_id": departed.id}, headers=boss).status_code
        == 422
    )
    assert client.post(url, json={"team_id": 999_999}, headers=boss).status_code == 422
    assert ticket.status == TicketStatus.received


def test_notes(
    client: TestClient, session: Session, desk: Team, people: dict[str, Agent]
) -> None:
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, status=TicketStatus.closed
    )
    url = f"{AGENT_TICKETS}/{ticket.id}/notes"
    headers = login(client, people["desk"])
    client.post(url, json={"text": "内部备注"}, headers=headers)
    body = client.post(
        url, json={"text": "已回访", "customer_visible": True}, headers=headers
    ).json()
    assert [(e["kind"], e["note"], e["customer_visible"]) for e in body["events"]] == [
        ("note", "内部备注", False),
        ("note", "已回访", True),
    ]
    assert body["status"] == "closed"
    assert client.post(url, json={"text": ""}, headers=headers).status_code == 422
    outsider = login(client, people["outsider"])
    assert client.post(url, json={"text": "x"}, headers=outsider).status_code == 403


# --- breaches ---------------------------------------------------------------------


def test_flag_breaches_once_per_flag(session: Session, time_machine: Any) -> None:
    customer = make_customer(session)
    waiting = make_ticket(session, customer=customer, created_at=NOW)
    acked = make_ticket(
        session, customer=customer, created_at=NOW, status=TicketStatus.acknowledged
    )
    resolved = make_ticket(
        session, customer=customer, created_at=NOW, status=TicketStatus.resolved
    )

    assert lifecycle.flag_breaches(session, now=NOW + timedelta(hours=23)) == []

    time_machine.move_to(NOW + timedelta(days=1, minutes=1), tick=False)
    flagged = lifecycle.flag_breaches(session, now=NOW + timedelta(days=1, minutes=1))
    assert flagged == [waiting]
    assert waiting.ack_breached and not waiting.resolve_breached
    assert not acked.ack_breached
    [event] = _events(session, waiting.id, "breached")
    assert event.note == lifecycle.ACK_BREACH_NOTE
    assert event.customer_visible is False
    # idempotent: running again flags nothing and logs nothing
    assert lifecycle.flag_breaches(session, now=NOW + timedelta(days=2)) == []
    assert len(_events(session, waiting.id, "breached")) == 1

    later = NOW + timedelta(days=15, seconds=1)
    flagged = lifecycle.flag_breaches(session, now=later)
    assert {t.id for t in flagged} == {waiting.id, acked.id}
    assert (
        waiting.resolve_breached and acked.resolve_breached and not acked.ack_breached
    )
    assert not resolved.ack_breached and not resolved.resolve_breached
    assert [e.note for e in _events(session, waiting.id, "breached")] == [
        lifecycle.ACK_BREACH_NOTE,
        lifecycle.RESOLVE_BREACH_NOTE,
    ]
    assert lifecycle.flag_breaches(session, now=later + timedelta(days=1)) == []
    assert len(_events(session, acked.id, "breached")) == 1


def test_late_acknowledgement_records_the_breach(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    time_machine: Any,
) -> None:
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, created_at=NOW
    )
    time_machine.move_to(NOW + timedelta(days=2), tick=False)
    headers = login(client, people["desk"])
    body = client.post(
        f"{AGENT_TICKETS}/{ticket.id}/acknowledge", headers=headers
    ).json()
    assert body["ack_breached"] is True and body["resolve_breached"] is False
    assert [e["kind"] for e in body["events"]] == ["breached", "acknowledged"]
    assert lifecycle.flag_breaches(session, now=NOW + timedelta(days=3)) == []


def test_breach_summary_for_supervisors(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    time_machine: Any,
) -> None:
    customer = make_customer(session)
    early = NOW - timedelta(days=20)
    # overdue on both deadlines but not yet flagged by the job
    a = make_ticket(session, customer=customer, team=desk, created_at=early)
    # flagged earlier for acknowledgement, since acknowledged, still within 15 days
    b = make_ticket(
        session,
        customer=customer,
        team=desk,
        created_at=NOW - timedelta(days=3),
        status=TicketStatus.acknowledged,
        category=TicketCategory.billing,
    )
    b.ack_breached = True
    # overdue for resolution, no team
    make_ticket(
        session, customer=customer, created_at=early, status=TicketStatus.investigating
    )
    # closed tickets with old flags only count when asked
    closed = make_ticket(
        session,
        customer=customer,
        team=desk,
        created_at=early,
        status=TicketStatus.closed,
    )
    closed.resolve_breached = True
    # on time
    make_ticket(session, customer=customer, team=desk, created_at=NOW)
    session.flush()
    time_machine.move_to(NOW, tick=False)
    url = f"{AGENT_TICKETS}/breaches"
    boss = login(client, people["boss"])

    body = client.get(url, headers=boss).json()
    assert (body["total"], body["ack_breached"], body["resolve_breached"]) == (3, 2, 2)
    teams = {
        t["label"]: (t["ack_breached"], t["resolve_breached"], t["tickets"])
        for t in body["by_team"]
    }
    assert teams == {"投诉处理组": (2, 1, 2), "未分配": (0, 1, 1)}
    assert body["by_team"][0]["key"] == str(desk.id)
    categories = {c["key"]: (c["label"], c["tickets"]) for c in body["by_category"]}
    assert categories == {
        "service_attitude": ("服务态度", 2),
        "billing": ("扣费缴费", 1),
    }

    body = client.get(url, params={"include_closed": True}, headers=boss).json()
    assert body["total"] == 4 and body["resolve_breached"] == 3

    refused = client.get(url, headers=login(client, people["desk"]))
    assert refused.status_code == 403
    # the summary reads, it does not write: flags are the job's and the verbs'
    session.refresh(a)
    assert a.ack_breached is False
