"""Agents: me and presence, teams, the directory, assignment and departure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, func, insert, select

from crm_backend.agents import assignments, auth, flows, service
from crm_backend.agents.load import agent_loads
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.models import (
    AgentSession,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
    Policy,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    ConversationStatus,
    Gender,
    Presence,
    SignalKind,
)
from tests.factories import (
    PASSWORD,
    login,
    make_agent,
    make_conversation,
    make_customer,
    make_policy,
    make_product,
    make_team,
)

API = "/api/v1/agent"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _open(session, customer_id):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(CustomerAssignment).where(
            CustomerAssignment.customer_id == customer_id,
            CustomerAssignment.ended_at.is_(None),
        )
    ).all()


# --- me and presence ----------------------------------------------------------


def test_me_shows_team_presence_capacity_and_load(client, session):
    team = make_team(session, name="续期挽留组", topics=["retention"])
    agent = make_agent(session, team=team, capacity=5, skills=["retention"])
    make_conversation(session, agent=agent, status=ConversationStatus.agent)
    make_conversation(session, agent=agent, status=ConversationStatus.agent)
    make_conversation(session, agent=agent, status=ConversationStatus.closed)
    body = client.get(f"{API}/me", headers=login(client, agent)).json()
    assert body["id"] == agent.id and body["employee_no"] == agent.employee_no
    assert body["team"] == {
        "id": team.id,
        "code": team.code,
        "name": "续期挽留组",
        "topics": ["retention"],
    }
    assert body["capacity"] == 5 and body["load"] == 2
    assert body["skills"] == ["retention"]
    assert body["presence"] == "online"
    assert "password_hash" not in body


def test_me_without_team(client, session):
    agent = make_agent(session)
    assert client.get(f"{API}/me", headers=login(client, agent)).json()["team"] is None


def test_set_presence_records_when(client, session):
    agent = make_agent(session, presence=Presence.offline)
    headers = login(client, agent)
    with time_machine.travel(T0, tick=False):
        response = client.post(
            f"{API}/me/presence", json={"presence": "away"}, headers=headers
        )
    assert response.status_code == 200
    assert response.json()["presence"] == "away"
    assert datetime.fromisoformat(response.json()["presence_changed_at"]) == T0
    assert agent.presence == Presence.away and agent.presence_changed_at == T0
    bad = client.post(f"{API}/me/presence", json={"presence": "busy"}, headers=headers)
    assert bad.status_code == 422


def test_set_presence_same_value_keeps_timestamp(session):
    agent = make_agent(session, presence=Presence.online)
    service.set_presence(session, agent=agent, presence=Presence.online, now=T0)
    later = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    service.set_presence(session, agent=agent, presence=Presence.online, now=later)
    assert agent.presence_changed_at == T0


def test_departed_agent_has_no_presence(session):
    agent = make_agent(session, status=AgentStatus.departed)
    with pytest.raises(Conflict):
        service.set_presence(session, agent=agent, presence=Presence.online)


# --- teams and directory ------------------------------------------------------


def _two_teams(session):  # type: ignore[no-untyped-def]
    vip = make_team(session, code="vip", name="贵宾服务组", topics=["vip"])
    gen = make_team(session, code="gen", name="综合服务组")
    a = make_agent(session, team=vip, name="甲", presence=Presence.online, capacity=4)
    b = make_agent(session, team=vip, name="乙", presence=Presence.away)
    make_agent(session, team=vip, name="丙", status=AgentStatus.departed)
    c = make_agent(session, team=gen, name="丁", presence=Presence.offline)
    boss = make_agent(session, team=gen, name="主管", role=AgentRole.supervisor)
    make_conversation(session, agent=a, status=ConversationStatus.agent)
    return vip, gen, a, b, c, boss


def test_agent_sees_only_own_team(client, session):
    vip, _gen, a, b, _c, _boss = _two_teams(session)
    body = client.get(f"{API}/teams", headers=login(client, b)).json()
    assert [t["id"] for t in body["items"]] == [vip.id]
    team = body["items"][0]
    assert team["online"] == 1
    members = {m["name"]: m for m in team["members"]}
    assert set(members) == {"甲", "乙"}  # the departed one is gone
    assert members["甲"]["load"] == 1 and members["甲"]["capacity"] == 4
    assert members["乙"]["presence"] == "away"


def test_supervisor_sees_every_team(client, session):
    vip, gen, *_rest, boss = _two_teams(session)
    body = client.get(f"{API}/teams", headers=login(client, boss)).json()
    assert {t["id"] for t in body["items"]} >= {vip.id, gen.id}


def test_agent_without_team_sees_no_team(client, session):
    loner = make_agent(session)
    assert client.get(f"{API}/teams", headers=login(client, loner)).json() == {
        "items": []
    }


def test_directory_lists_colleagues_without_personal_data(client, session):
    vip, gen, a, b, c, boss = _two_teams(session)
    headers = login(client, c)
    body = client.get(f"{API}/agents", headers=headers).json()
    by_id = {m["id"]: m for m in body["items"]}
    assert {a.id, b.id, c.id, boss.id} <= set(by_id)
    assert all(m["name"] != "丙" for m in body["items"])
    entry = by_id[a.id]
    assert entry == {
        "id": a.id,
        "name": "甲",
        "role": "service_agent",
        "team_id": vip.id,
        "team_name": "贵宾服务组",
        "skills": [],
        "presence": "online",
        "load": 1,
        "capacity": 4,
    }
    filtered = client.get(
        f"{API}/agents",
        params={"team_id": vip.id, "presence": "online"},
        headers=headers,
    ).json()
    assert [m["id"] for m in filtered["items"]] == [a.id]
    gen_only = client.get(f"{API}/agents", params={"team_id": gen.id}, headers=headers)
    assert {m["id"] for m in gen_only.json()["items"]} == {c.id, boss.id}
    bad = client.get(f"{API}/agents", params={"presence": "busy"}, headers=headers)
    assert bad.status_code == 422


def test_directory_needs_login(client):
    assert client.get(f"{API}/agents").status_code == 401
    assert client.get(f"{API}/teams").status_code == 401


def test_load_and_assignment_counts(session):
    a, b = make_agent(session), make_agent(session)
    make_customer(session, agent=a)
    make_customer(session, agent=a)
    make_conversation(session, agent=b, status=ConversationStatus.agent)
    assert assignments.open_assignment_counts(session, agent_ids=[a.id, b.id]) == {
        a.id: 2,
        b.id: 0,
    }
    assert agent_loads(session, [a.id, b.id]) == {a.id: 0, b.id: 1}
    assert assignments.open_assignment_counts(session, agent_ids=[]) == {}
    assert agent_loads(session, []) == {}


def test_get_agent_not_found(session):
    with pytest.raises(NotFound):
        service.get_agent(session, agent_id=987654)


# --- assignment -----------------------------------------------------------------


def test_assign_customer_keeps_history_and_moves_policies(session):
    old, new, boss = make_agent(session), make_agent(session), make_agent(session)
    other = make_agent(session)
    customer = make_customer(session, agent=old)
    mine = make_policy(session, holder=customer, agent=old)
    foreign = make_policy(session, holder=customer, agent=other)
    later = utcnow() + timedelta(minutes=1)
    row = assignments.assign_customer(
        session,
        customer_id=customer.id,
        agent_id=new.id,
        reason="manual",
        by_agent_id=boss.id,
        now=later,
    )
    assert row.agent_id == new.id and row.assigned_by_id == boss.id
    assert row.assigned_at == later and row.reason == "manual"
    history = assignments.list_assignments(session, customer_id=customer.id)
    assert [(h.agent_id, h.ended_at) for h in history] == [
        (new.id, None),
        (old.id, later),
    ]
    assert history[0].agent_name == new.name
    assert [a.id for a in _open(session, customer.id)] == [row.id]
    session.refresh(mine)
    session.refresh(foreign)
    assert mine.servicing_agent_id == new.id
    assert foreign.servicing_agent_id == other.id


def test_assign_first_time_and_same_agent_is_a_no_op(session):
    agent = make_agent(session)
    customer = make_customer(session)
    first = assignments.assign_customer(
        session, customer_id=customer.id, agent_id=agent.id, reason="initial"
    )
    again = assignments.assign_customer(
        session, customer_id=customer.id, agent_id=agent.id, reason="manual"
    )
    assert again.id == first.id
    assert len(assignments.list_assignments(session, customer_id=customer.id)) == 1


def test_assign_refuses_unknown_and_departed(session):
    customer = make_customer(session)
    departed = make_agent(session, status=AgentStatus.departed)
    with pytest.raises(NotFound):
        assignments.assign_customer(
            session, customer_id=987654, agent_id=departed.id, reason="x"
        )
    with pytest.raises(NotFound):
        assignments.assign_customer(
            session, customer_id=customer.id, agent_id=987654, reason="x"
        )
    with pytest.raises(Conflict):
        assignments.assign_customer(
            session, customer_id=customer.id, agent_id=departed.id, reason="x"
        )
    with pytest.raises(NotFound):
        assignments.list_assignments(session, customer_id=987654)


def test_assign_endpoint_supervisor_only(client, session):
    team = make_team(session)
    agent, mate = make_agent(session, team=team), make_agent(session, team=team)
    boss = make_agent(session, role=AgentRole.supervisor)
    customer = make_customer(session, agent=agent)
    url = f"{API}/customers/{customer.id}/assign"
    refused = client.post(url, json={"agent_id": mate.id}, headers=login(client, agent))
    assert refused.status_code == 403
    boss_headers = login(client, boss)
    response = client.post(
        url, json={"agent_id": mate.id, "reason": "rebalance"}, headers=boss_headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["agent_id"] == mate.id and body["agent_name"] == mate.name
    assert body["assigned_by_id"] == boss.id and body["reason"] == "rebalance"
    history = client.get(
        f"{API}/customers/{customer.id}/assignments", headers=boss_headers
    )
    assert [h["agent_id"] for h in history.json()["items"]] == [mate.id, agent.id]
    assert history.json()["items"][1]["ended_at"] is not None
    missing = client.post(
        f"{API}/customers/987654/assign",
        json={"agent_id": mate.id},
        headers=boss_headers,
    )
    assert missing.status_code == 404
    gone = client.get(f"{API}/customers/987654/assignments", headers=boss_headers)
    assert gone.status_code == 404


# --- departure ------------------------------------------------------------------


def _sales_team(session, *, loads=(0, 0)):  # type: ignore[no-untyped-def]
    team = make_team(session, code="sales", name="个险销售一部")
    leaver = make_agent(session, team=team, role=AgentRole.sales_agent, name="离职者")
    heirs = []
    for i, load in enumerate(loads):
        role = AgentRole.sales_agent if i % 2 == 0 else AgentRole.account_manager
        heir = make_agent(session, team=team, role=role, name=f"接手{i}")
        for _ in range(load):
            make_customer(session, agent=heir)
        heirs.append(heir)
    # same team but neither sales agent nor account manager, and a departed one
    make_agent(session, team=team, role=AgentRole.service_agent)
    make_agent(
        session, team=team, role=AgentRole.sales_agent, status=AgentStatus.departed
    )
    boss = make_agent(session, role=AgentRole.supervisor)
    return team, leaver, heirs, boss


def test_departure_spreads_customers_least_loaded_first(session, settings):
    _team, leaver, (heavy, light), boss = _sales_team(session, loads=(3, 0))
    product = make_product(session)
    customers = [make_customer(session, agent=leaver) for _ in range(5)]
    policies = [
        make_policy(session, holder=c, agent=leaver, product=product) for c in customers
    ]
    old_rows = {c.id: _open(session, c.id)[0].id for c in customers}
    login_session = auth.login(
        session,
        employee_no=leaver.employee_no,
        password=PASSWORD,
        settings=settings,
    )[1]

    result = flows.depart_agent(session, agent_id=leaver.id, by=boss, now=T0)

    # light (0) takes 4 customers until it reaches heavy (3); then they alternate
    assert result.customers_reassigned == 5
    assert result.successors == {light.id: 4, heavy.id: 1}
    assert result.policies_repointed == 5
    assert result.sessions_revoked == 1
    assert leaver.status == AgentStatus.departed and leaver.departed_at == T0
    assert leaver.presence == Presence.offline
    session.refresh(login_session)
    assert login_session.revoked_at == T0
    for customer in customers:
        rows = session.scalars(
            select(CustomerAssignment)
            .where(CustomerAssignment.customer_id == customer.id)
            .order_by(CustomerAssignment.id)
        ).all()
        assert len(rows) == 2  # nothing deleted
        assert rows[0].id == old_rows[customer.id] and rows[0].ended_at == T0
        assert rows[0].agent_id == leaver.id
        assert rows[1].ended_at is None and rows[1].reason == "agent_departed"
        assert rows[1].assigned_by_id == boss.id and rows[1].agent_id in {
            heavy.id,
            light.id,
        }
    for policy, customer in zip(policies, customers, strict=True):
        assert policy.servicing_agent_id == _open(session, customer.id)[0].agent_id
    signals = session.scalars(
        select(CustomerSignal).where(
            CustomerSignal.customer_id.in_([c.id for c in customers])
        )
    ).all()
    assert len(signals) == 5
    assert {s.kind for s in signals} == {SignalKind.agent_departed}
    assert "离职者" in (signals[0].detail or "")
    # churn scores were recomputed with the departure as a reason
    score = session.get(CustomerScore, customers[0].id)
    assert score is not None
    assert "agent_departed" in [r["code"] for r in score.churn_reasons]


def test_departure_to_named_successor_and_unassigned_policy_holders(session):
    team, leaver, _heirs, boss = _sales_team(session, loads=(0,))
    successor = make_agent(session, role=AgentRole.account_manager)  # any team
    elsewhere = make_agent(session)
    assigned = make_customer(session, agent=leaver)
    orphan = make_customer(session)  # only linked through a policy
    served_elsewhere = make_customer(session, agent=elsewhere)
    p1 = make_policy(session, holder=assigned, agent=leaver)
    p2 = make_policy(session, holder=orphan, agent=leaver)
    p3 = make_policy(session, holder=served_elsewhere, agent=leaver)
    result = flows.depart_agent(
        session, agent_id=leaver.id, by=boss, successor_id=successor.id, now=T0
    )
    assert result.successors == {successor.id: 2}
    assert result.customers_reassigned == 2
    assert result.policies_repointed == 3
    assert [a.agent_id for a in _open(session, assigned.id)] == [successor.id]
    assert [a.agent_id for a in _open(session, orphan.id)] == [successor.id]
    assert [a.agent_id for a in _open(session, served_elsewhere.id)] == [elsewhere.id]
    assert (p1.servicing_agent_id, p2.servicing_agent_id, p3.servicing_agent_id) == (
        successor.id,
        successor.id,
        elsewhere.id,
    )
    # only the customers who changed hands get a departure signal
    kinds = session.scalars(
        select(CustomerSignal.customer_id).where(
            CustomerSignal.kind == SignalKind.agent_departed
        )
    ).all()
    assert sorted(kinds) == sorted([assigned.id, orphan.id])


def test_departure_without_customers(session):
    _team, leaver, _heirs, boss = _sales_team(session, loads=())
    result = flows.depart_agent(session, agent_id=leaver.id, by=boss)
    assert result.customers_reassigned == 0 and result.successors == {}
    assert leaver.status == AgentStatus.departed


def test_departure_refusals_change_nothing(session):
    _team, leaver, (heir,), boss = _sales_team(session, loads=(0,))
    lonely = make_agent(session, role=AgentRole.sales_agent)  # no team, no heirs
    customer = make_customer(session, agent=lonely)
    with pytest.raises(Conflict):
        flows.depart_agent(session, agent_id=lonely.id, by=boss)
    assert lonely.status == AgentStatus.active
    assert [a.agent_id for a in _open(session, customer.id)] == [lonely.id]
    with pytest.raises(Unprocessable):
        flows.depart_agent(session, agent_id=leaver.id, by=boss, successor_id=leaver.id)
    gone = make_agent(session, status=AgentStatus.departed)
    with pytest.raises(Unprocessable):
        flows.depart_agent(session, agent_id=leaver.id, by=boss, successor_id=gone.id)
    with pytest.raises(NotFound):
        flows.depart_agent(session, agent_id=leaver.id, by=boss, successor_id=987654)
    with pytest.raises(NotFound):
        flows.depart_agent(session, agent_id=987654, by=boss)
    with pytest.raises(Conflict):
        flows.depart_agent(session, agent_id=boss.id, by=boss)
    with pytest.raises(Conflict):
        flows.depart_agent(session, agent_id=gone.id, by=boss)
    assert leaver.status == AgentStatus.active


def test_depart_endpoint(client, session):
    _team, leaver, (heir,), boss = _sales_team(session, loads=(0,))
    customers = [make_customer(session, agent=leaver) for _ in range(3)]
    url = f"{API}/agents/{leaver.id}/depart"
    refused = client.post(url, json={}, headers=login(client, heir))
    assert refused.status_code == 403
    assert leaver.status == AgentStatus.active
    leaver_headers = login(client, leaver)
    response = client.post(url, json={}, headers=login(client, boss))
    assert response.status_code == 200
    body = response.json()
    assert body["agent_id"] == leaver.id
    assert body["customers_reassigned"] == 3
    assert body["successors"] == {str(heir.id): 3}
    assert body["sessions_revoked"] == 1
    assert client.get(f"{API}/me", headers=leaver_headers).status_code == 401
    again = client.post(url, json={}, headers=login(client, boss))
    assert again.status_code == 409
    for customer in customers:
        assert [a.agent_id for a in _open(session, customer.id)] == [heir.id]
    missing = client.post(
        f"{API}/agents/987654/depart", json={}, headers=login(client, boss)
    )
    assert missing.status_code == 404


def _bulk_customers(session, agent, n):  # type: ignore[no-untyped-def]
    """``n`` customers of ``agent`` inserted set-wise (factories are too slow)."""
    base = session.scalar(select(func.coalesce(func.max(Customer.id), 0))) + 1
    session.execute(
        insert(Customer),
        [
            {
                "customer_no": f"B{base + i:09d}",
                "name": "赵磊",
                "gender": Gender.male,
                "birth_date": datetime(1980, 1, 1).date(),
                "id_number": f"B{base + i:017d}",
                "phone": f"137{base + i:08d}",
                "region": "北京",
            }
            for i in range(n)
        ],
    )
    ids = session.scalars(
        select(Customer.id).where(Customer.customer_no.like("B%")).order_by(Customer.id)
    ).all()
    session.execute(
        insert(CustomerAssignment),
        [{"customer_id": cid, "agent_id": agent.id} for cid in ids],
    )
    return ids


def test_departure_of_a_big_book_is_set_based(session, engine, monkeypatch):
    _team, leaver, heirs, boss = _sales_team(session, loads=(0, 0, 0))
    ids = _bulk_customers(session, leaver, 1500)
    recomputed: list[int] = []
    monkeypatch.setattr(
        "crm_backend.analytics.service.recompute",
        lambda _s, *, customer_id, **_kw: recomputed.append(customer_id),
    )
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = flows.depart_agent(session, agent_id=leaver.id, by=boss, now=T0)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.customers_reassigned == 1500
    assert sorted(result.successors.values()) == [500, 500, 500]
    assert sorted(recomputed) == sorted(ids)
    # a constant number of statements, whatever the size of the book
    assert len(statements) < 30, statements
    ended = session.scalar(
        select(func.count()).where(
            CustomerAssignment.agent_id == leaver.id,
            CustomerAssignment.ended_at == T0,
        )
    )
    assert ended == 1500
    assert (
        session.scalar(
            select(func.count()).where(CustomerSignal.kind == SignalKind.agent_departed)
        )
        == 1500
    )
    assert (
        session.scalar(
            select(func.count()).where(Policy.servicing_agent_id == leaver.id)
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(AgentSession)
            .where(
                AgentSession.agent_id == leaver.id, AgentSession.revoked_at.is_(None)
            )
        )
        == 0
    )
