"""Customers: masked bot views, servicing agent, contact update, signals, console."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from crm_backend.agents.access import can_access_customer, customer_access_clause
from crm_backend.core.errors import Forbidden, NotFound
from crm_backend.core.security import new_token, token_digest
from crm_backend.customers import service
from crm_backend.customers.schemas import ContactUpdate, SignalCreate, normalize_phone
from crm_backend.identity.service import mint_step_up_token
from crm_backend.models import (
    Agent,
    AgentSession,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    Gender,
    Presence,
    RiskLevel,
    SignalKind,
    ValueTier,
)
from tests.factories import (
    make_agent,
    make_conversation,
    make_customer,
    make_escalation,
    make_team,
    make_ticket,
)

SERVICE = "/api/v1/service/customers"
AGENT = "/api/v1/agent/customers"
PHONE = "13812345678"
ID_NUMBER = "11010119850615123X"


@pytest.fixture()
def team(session):
    """The VIP desk."""
    return make_team(session, name="VIP服务组", topics=["vip"])


@pytest.fixture()
def agent(session, team) -> Agent:
    """The customer's account manager."""
    return make_agent(session, team=team, name="陈静", role=AgentRole.account_manager)


@pytest.fixture()
def customer(session, agent) -> Customer:
    """A customer served by ``agent``."""
    return make_customer(
        session,
        name="张伟",
        gender=Gender.male,
        phone=PHONE,
        id_number=ID_NUMBER,
        birth_date=date(1985, 6, 15),
        agent=agent,
    )


def _headers(session, agent: Agent) -> dict[str, str]:
    """A live console session for ``agent``."""
    token = new_token()
    session.add(
        AgentSession(
            agent_id=agent.id,
            token_hash=token_digest(token),
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def _assert_masked(text: str, customer: Customer) -> None:
    assert customer.phone not in text
    assert customer.id_number not in text


def _token(customer: Customer, settings, purpose: str = "update_contact") -> str:
    return mint_step_up_token(
        customer_id=customer.id, purpose=purpose, secret_key=settings.secret_key
    )


# --- pure helpers ------------------------------------------------------------------


def test_age_salutation_and_phone_normalisation(session):
    assert service.age_on(date(1985, 6, 15), date(2025, 6, 14)) == 39
    assert service.age_on(date(1985, 6, 15), date(2025, 6, 15)) == 40
    assert service.salutation(Customer(name="王芳", gender=Gender.female)) == "王女士"
    assert service.salutation(Customer(name="欧阳修", gender=Gender.male)) == "欧阳先生"
    assert service.salutation(Customer(name="欧阳", gender=Gender.male)) == "欧先生"
    assert normalize_phone("+86 138-1234-5678") == PHONE
    assert normalize_phone("8613812345678") == PHONE
    with time_machine.travel(datetime(2025, 6, 14, 16, 30, tzinfo=UTC)):
        # 00:30 on 15 June in Beijing: the birthday has come
        assert service.today_in_china() == date(2025, 6, 15)


# --- bot views ---------------------------------------------------------------------


def test_summary_is_masked_and_names_the_servicing_agent(
    client, session, service_headers, customer, agent
):
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)):
        response = client.get(f"{SERVICE}/{customer.id}", headers=service_headers)
    assert response.status_code == 200
    body = response.json()
    _assert_masked(response.text, customer)
    assert customer.email not in response.text
    assert body["phone_masked"] == "138****5678"
    assert body["id_number_masked"] == "**************123X"
    assert body["email_masked"].startswith(customer.email[0] + "***@")
    assert body["age"] == 39 and body["salutation"] == "张先生"
    assert (body["value_tier"], body["churn_risk"]) == ("standard", "low")
    assert "verification_level" not in body and "verified" not in response.text
    assert body["servicing_agent"] == {
        "id": agent.id,
        "name": "陈静",
        "employee_no": agent.employee_no,
        "role": "account_manager",
        "role_label": "客户经理",
        "work_phone": "02188886666",
        "departed": False,
    }


def test_summary_uses_the_stored_scores(session, customer):
    session.add(
        CustomerScore(
            customer_id=customer.id,
            value_tier=ValueTier.vip,
            churn_risk=RiskLevel.high,
        )
    )
    session.flush()
    summary = service.summary(session, customer_id=customer.id)
    assert (summary.value_tier, summary.churn_risk) == (ValueTier.vip, RiskLevel.high)
    assert service.tier_and_risk(session, customer_id=customer.id) == (
        ValueTier.vip,
        RiskLevel.high,
    )


def test_unknown_customer_is_404_everywhere(client, service_headers, session):
    for path in (f"{SERVICE}/987654", f"{SERVICE}/987654/agent"):
        response = client.get(path, headers=service_headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "customer_not_found"
    with pytest.raises(NotFound):
        service.get(session, customer_id=987654)


def test_customer_endpoints_need_the_service_token(client, customer):
    assert client.get(f"{SERVICE}/{customer.id}").status_code == 401
    assert client.get(f"{SERVICE}/{customer.id}/agent").status_code == 401


def test_servicing_agent_online(client, service_headers, customer, agent):
    response = client.get(f"{SERVICE}/{customer.id}/agent", headers=service_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["assigned"] is True
    got = body["agent"]
    assert (got["name"], got["role"], got["team_name"], got["presence"]) == (
        "陈静",
        "account_manager",
        "VIP服务组",
        "online",
    )
    assert got["work_phone"] == "02188886666"
    assert got["available"] is True and got["departed"] is False
    _assert_masked(response.text, customer)


def test_servicing_agent_who_departed_is_reported(client, session, service_headers):
    gone = make_agent(session, name="刘洋", role=AgentRole.sales_agent)
    gone.status = AgentStatus.departed
    gone.presence = Presence.offline
    gone.departed_at = utcnow()
    session.flush()
    orphan = make_customer(session, agent=gone)
    body = client.get(f"{SERVICE}/{orphan.id}/agent", headers=service_headers).json()
    assert body["agent"]["departed"] is True
    assert body["agent"]["departed_at"] is not None
    assert body["agent"]["available"] is False
    assert body["agent"]["team_name"] is None
    summary = client.get(f"{SERVICE}/{orphan.id}", headers=service_headers).json()
    assert summary["servicing_agent"]["departed"] is True


def test_customer_without_an_agent(client, session, service_headers):
    alone = make_customer(session)
    body = client.get(f"{SERVICE}/{alone.id}/agent", headers=service_headers).json()
    assert body == {"customer_id": alone.id, "assigned": False, "agent": None}
    summary = client.get(f"{SERVICE}/{alone.id}", headers=service_headers).json()
    assert summary["servicing_agent"] is None


def test_only_the_open_assignment_counts(session, customer, agent):
    newer = make_agent(session, name="孙丽")
    open_row = session.scalars(
        select(CustomerAssignment).where(CustomerAssignment.customer_id == customer.id)
    ).one()
    open_row.ended_at = utcnow()
    session.add(
        CustomerAssignment(
            customer_id=customer.id, agent_id=newer.id, reason="transfer"
        )
    )
    session.flush()
    current = service.current_assignment(session, customer_id=customer.id)
    assert current is not None and current[1].id == newer.id
    history = service.assignment_history(session, customer_id=customer.id)
    assert [h.agent_id for h in history] == [newer.id, agent.id]
    assert history[1].ended_at is not None


# --- contact update ----------------------------------------------------------------


def test_contact_update_without_a_step_up_token_is_refused(
    client, session, service_headers, customer, settings
):
    before = (customer.phone, customer.email, customer.address)
    other = make_customer(session)
    refusals = [
        {"phone": "13900002222"},
        {"phone": "13900002222", "step_up_token": "not-a-token"},
        {"phone": "13900002222", "step_up_token": _token(other, settings)},
        {
            "phone": "13900002222",
            "step_up_token": _token(customer, settings, "change_bank"),
        },
    ]
    for payload in refusals:
        response = client.post(
            f"{SERVICE}/{customer.id}/contact", json=payload, headers=service_headers
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "step_up_required"
    session.expire_all()
    fresh = session.get(Customer, customer.id)
    assert (fresh.phone, fresh.email, fresh.address) == before


def test_contact_update_with_a_token(
    client, session, service_headers, customer, settings
):
    response = client.post(
        f"{SERVICE}/{customer.id}/contact",
        json={
            "step_up_token": _token(customer, settings),
            "phone": "139 0000 2222",
            "email": "Zhang.Wei@Example.COM",
            "address": " 北京市朝阳区建国路1号 ",
        },
        headers=service_headers,
    )
    assert response.status_code == 200
    assert response.json()["phone_masked"] == "139****2222"
    assert "13900002222" not in response.text
    assert customer.id_number not in response.text
    session.expire_all()
    fresh = session.get(Customer, customer.id)
    assert fresh.phone == "13900002222"
    assert fresh.email == "zhang.wei@example.com"
    assert fresh.address == "北京市朝阳区建国路1号"


def test_a_token_expires_after_ten_minutes(
    client, session, service_headers, customer, settings
):
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) as traveller:
        token = _token(customer, settings)
        traveller.shift(timedelta(minutes=10, seconds=5))
        response = client.post(
            f"{SERVICE}/{customer.id}/contact",
            json={"step_up_token": token, "address": "北京市"},
            headers=service_headers,
        )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Customer, customer.id).address != "北京市"


@pytest.mark.parametrize(
    "payload",
    [
        {"phone": "12345678901"},
        {"phone": "1381234567"},
        {"email": "not-an-email"},
        {"email": "a@b"},
        {"address": " "},
        {},
    ],
)
def test_contact_update_validates_input(
    client, session, service_headers, customer, settings, payload
):
    payload = {"step_up_token": _token(customer, settings), **payload}
    response = client.post(
        f"{SERVICE}/{customer.id}/contact", json=payload, headers=service_headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_update_contact_service(session, customer, settings):
    with pytest.raises(Forbidden):
        service.update_contact(
            session,
            customer_id=customer.id,
            contact_in=ContactUpdate(email="new@example.com"),
            secret_key=settings.secret_key,
        )
    updated = service.update_contact(
        session,
        customer_id=customer.id,
        contact_in=ContactUpdate(
            email="new@example.com", step_up_token=_token(customer, settings)
        ),
        secret_key=settings.secret_key,
    )
    assert updated.email_masked == "n***@example.com"
    assert customer.phone == PHONE  # untouched fields stay


# --- churn signals -----------------------------------------------------------------


def test_record_a_signal_recomputes_scores(client, session, service_headers, customer):
    conversation = make_conversation(session, customer=customer)
    assert session.get(CustomerScore, customer.id) is None
    response = client.post(
        f"{SERVICE}/{customer.id}/signals",
        json={
            "kind": "surrender_enquiry",
            "detail": "客户询问退保金额",
            "conversation_id": conversation.id,
        },
        headers=service_headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["signal"]["kind"] == "surrender_enquiry"
    assert body["signal"]["conversation_id"] == conversation.id
    row = session.scalars(
        select(CustomerSignal).where(CustomerSignal.customer_id == customer.id)
    ).one()
    assert row.kind == SignalKind.surrender_enquiry and row.detail == "客户询问退保金额"
    score = session.get(CustomerScore, customer.id)
    assert score is not None
    assert body["churn_risk"] == score.churn_risk.value
    reasons = " ".join(str(r) for r in score.churn_reasons)
    assert "surrender" in reasons


def test_signal_input_is_checked(client, session, service_headers, customer):
    bad_kind = client.post(
        f"{SERVICE}/{customer.id}/signals",
        json={"kind": "agent_departed"},
        headers=service_headers,
    )
    assert bad_kind.status_code == 422
    no_conversation = client.post(
        f"{SERVICE}/{customer.id}/signals",
        json={"kind": "negative_chat", "conversation_id": 987654},
        headers=service_headers,
    )
    assert no_conversation.status_code == 404
    no_customer = client.post(
        f"{SERVICE}/987654/signals",
        json={"kind": "negative_chat"},
        headers=service_headers,
    )
    assert no_customer.status_code == 404
    assert session.scalars(select(CustomerSignal)).all() == []


def test_record_signal_service(session, customer, settings):
    recorded = service.record_signal(
        session,
        customer_id=customer.id,
        signal_in=SignalCreate(kind="payment_difficulty"),
        settings=settings,
    )
    assert recorded.signal.kind == SignalKind.payment_difficulty
    assert recorded.signal.customer_id == customer.id
    assert session.get(CustomerScore, customer.id) is not None


# --- console: search and profile ---------------------------------------------------


def test_profile_for_the_own_agent(client, session, customer, agent):
    customer.wechat_openid = "oWx-9"
    customer.wechat_bound_at = utcnow()
    session.flush()
    response = client.get(f"{AGENT}/{customer.id}", headers=_headers(session, agent))
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == PHONE  # agents need to call
    assert body["id_number_masked"] == "**************123X"
    assert ID_NUMBER not in response.text
    assert body["birth_date"] == "1985-06-15"
    assert (body["occupation"], body["education"], body["acquisition_channel"]) == (
        "教师",
        "本科",
        "agent",
    )
    assert body["wechat_bound"] is True and "oWx-9" not in response.text
    assert body["score"]["value_tier"] == "standard"
    assert body["score"]["churn_reasons"] == []
    assert body["servicing_agent"]["name"] == "陈静"
    assert [a["agent_id"] for a in body["assignments"]] == [agent.id]


def test_agent_of_another_team_gets_403_and_a_supervisor_200(client, session, customer):
    stranger = make_agent(session, team=make_team(session, name="综合服务组"))
    refused = client.get(f"{AGENT}/{customer.id}", headers=_headers(session, stranger))
    assert refused.status_code == 403
    assert PHONE not in refused.text
    boss = make_agent(session, role=AgentRole.supervisor)
    allowed = client.get(f"{AGENT}/{customer.id}", headers=_headers(session, boss))
    assert allowed.status_code == 200 and allowed.json()["id"] == customer.id
    assert (
        client.get(f"{AGENT}/987654", headers=_headers(session, boss)).status_code
        == 404
    )


def test_profile_needs_a_login(client, customer):
    assert client.get(f"{AGENT}/{customer.id}").status_code == 401
    assert client.get(AGENT).status_code == 401


def test_profile_of_a_teammates_customer(client, session, customer, team):
    teammate = make_agent(session, team=team, name="周杰")
    response = client.get(f"{AGENT}/{customer.id}", headers=_headers(session, teammate))
    assert response.status_code == 200


def test_search_by_name_number_and_phone(client, session, customer, agent):
    boss = make_agent(session, role=AgentRole.supervisor)
    headers = _headers(session, boss)
    make_customer(session, name="张伟强", phone="13712340000")
    make_customer(session, name="李娜", phone="13712349999")
    by_name = client.get(AGENT, params={"q": "张伟"}, headers=headers).json()
    assert {i["name"] for i in by_name["items"]} == {"张伟", "张伟强"}
    assert by_name["total"] == 2
    by_no = client.get(
        AGENT, params={"q": customer.customer_no.lower()}, headers=headers
    ).json()
    assert [i["id"] for i in by_no["items"]] == [customer.id]
    by_phone = client.get(AGENT, params={"q": "1371234"}, headers=headers).json()
    assert {i["name"] for i in by_phone["items"]} == {"张伟强", "李娜"}
    full = client.get(AGENT, params={"q": PHONE}, headers=headers)
    [item] = full.json()["items"]
    assert item["phone_masked"] == "138****5678" and PHONE not in full.text
    assert item["servicing_agent_name"] == "陈静"
    assert (item["value_tier"], item["churn_risk"]) == ("standard", "low")
    assert client.get(AGENT, params={"q": "%"}, headers=headers).json()["total"] == 0


def test_search_pages(client, session):
    boss = make_agent(session, role=AgentRole.supervisor)
    headers = _headers(session, boss)
    ids = [make_customer(session, name=f"翻页{i}").id for i in range(5)]
    first = client.get(AGENT, params={"q": "翻页", "limit": 2}, headers=headers).json()
    rest = client.get(
        AGENT, params={"q": "翻页", "limit": 2, "offset": 4}, headers=headers
    ).json()
    assert first["total"] == rest["total"] == 5
    assert [i["id"] for i in first["items"]] == ids[:2]
    assert [i["id"] for i in rest["items"]] == ids[4:]
    too_many = client.get(AGENT, params={"limit": 101}, headers=headers)
    assert too_many.status_code == 422


def test_search_shows_only_customers_the_agent_may_access(client, session, team, agent):
    other_team = make_team(session, name="综合服务组")
    teammate = make_agent(session, team=team, name="周杰")
    outsider = make_agent(session, team=other_team, name="吴磊")
    mine = make_customer(session, name="可见甲", agent=agent)
    teams = make_customer(session, name="可见乙", agent=teammate)
    others = make_customer(session, name="不可见丙", agent=outsider)
    escalated = make_customer(session, name="可见丁", agent=outsider)
    make_escalation(
        session, conversation=make_conversation(session, customer=escalated), team=team
    )
    ticketed = make_customer(session, name="可见戊")
    make_ticket(session, customer=ticketed, assignee=agent)
    chatted = make_customer(session, name="可见己")
    make_conversation(session, customer=chatted, agent=agent)
    nobody = make_customer(session, name="不可见庚")

    body = client.get(AGENT, headers=_headers(session, agent)).json()
    seen = {i["id"] for i in body["items"]}
    assert {mine.id, teams.id, escalated.id, ticketed.id, chatted.id} <= seen
    assert others.id not in seen and nobody.id not in seen
    # the SQL filter and the access rule agree for every customer
    everyone = session.scalars(select(Customer.id)).all()
    for viewer in (agent, teammate, outsider):
        listed = set(
            session.scalars(
                select(Customer.id).where(customer_access_clause(viewer, Customer.id))
            )
        )
        allowed = {c for c in everyone if can_access_customer(session, viewer, c)}
        assert listed == allowed


def test_search_service_for_an_agent_without_a_team(session, customer):
    loner = make_agent(session, team=None)
    assert service.search(session, agent=loner, q=None, limit=20, offset=0).total == 0
    make_customer(session, name="独行", agent=loner)
    found = service.search(session, agent=loner, q="独行", limit=20, offset=0)
    assert [i.name for i in found.items] == ["独行"]


def test_profile_service_defaults(session, customer):
    profile = service.profile(session, customer_id=customer.id)
    assert profile.phone == PHONE
    assert profile.score.computed_at is None and profile.score.value_score == 0
    assert profile.wechat_bound is False
