"""Who may see which customer: own, team, escalated, ticketed, supervisor, departed."""

from __future__ import annotations

import pytest

from crm_backend.agents import flows
from crm_backend.agents.access import (
    can_access_customer,
    ensure_can_access_customer,
    ensure_supervisor,
    is_supervisor,
)
from crm_backend.core.errors import Forbidden
from crm_backend.models.enums import AgentRole, ConversationStatus, EscalationStatus
from tests.factories import (
    PASSWORD,
    login,
    make_agent,
    make_conversation,
    make_customer,
    make_escalation,
    make_team,
    make_ticket,
)


@pytest.fixture()
def world(session):  # type: ignore[no-untyped-def]
    """Two teams: me and a teammate in one, a stranger in the other."""
    mine, theirs = make_team(session, code="vip"), make_team(session, code="general")
    me = make_agent(session, team=mine, name="我")
    mate = make_agent(session, team=mine, name="队友")
    stranger = make_agent(session, team=theirs, name="别组")
    boss = make_agent(session, team=theirs, role=AgentRole.supervisor, name="主管")
    return {"mine": mine, "theirs": theirs, "me": me, "mate": mate,
            "stranger": stranger, "boss": boss}  # fmt: skip


def test_own_customer_allowed(session, world):
    customer = make_customer(session, agent=world["me"])
    assert can_access_customer(session, world["me"], customer.id)
    ensure_can_access_customer(session, world["me"], customer.id)


def test_teammates_customer_allowed(session, world):
    customer = make_customer(session, agent=world["mate"])
    assert can_access_customer(session, world["me"], customer.id)


def test_other_teams_customer_refused(session, world):
    customer = make_customer(session, agent=world["stranger"])
    assert not can_access_customer(session, world["me"], customer.id)
    with pytest.raises(Forbidden):
        ensure_can_access_customer(session, world["me"], customer.id)


def test_unassigned_or_unknown_customer_refused(session, world):
    customer = make_customer(session)
    assert not can_access_customer(session, world["me"], customer.id)
    assert not can_access_customer(session, world["me"], 987654321)


def test_ended_assignment_no_longer_grants_access(session, world):
    from crm_backend.agents import assignments

    customer = make_customer(session, agent=world["me"])
    assignments.assign_customer(
        session, customer_id=customer.id, agent_id=world["stranger"].id, reason="x"
    )
    assert not can_access_customer(session, world["me"], customer.id)
    assert can_access_customer(session, world["stranger"], customer.id)


def test_supervisor_allowed_everywhere(session, world):
    customer = make_customer(session, agent=world["me"])
    assert is_supervisor(world["boss"]) and not is_supervisor(world["me"])
    assert can_access_customer(session, world["boss"], customer.id)
    assert can_access_customer(session, world["boss"], make_customer(session).id)
    ensure_supervisor(world["boss"])
    with pytest.raises(Forbidden):
        ensure_supervisor(world["me"])


def test_customer_escalated_to_my_team_allowed(session, world):
    customer = make_customer(session, agent=world["stranger"])
    conversation = make_conversation(
        session, customer=customer, status=ConversationStatus.queued
    )
    make_escalation(session, conversation=conversation, team=world["mine"])
    assert can_access_customer(session, world["me"], customer.id)
    assert can_access_customer(session, world["mate"], customer.id)


def test_customer_escalated_to_me_allowed(session, world):
    customer = make_customer(session, agent=world["stranger"])
    conversation = make_conversation(session, customer=customer)
    make_escalation(
        session,
        conversation=conversation,
        agent=world["me"],
        status=EscalationStatus.active,
    )
    assert can_access_customer(session, world["me"], customer.id)
    assert not can_access_customer(session, world["mate"], customer.id)


def test_escalation_to_another_team_does_not_grant(session, world):
    customer = make_customer(session)
    conversation = make_conversation(session, customer=customer)
    make_escalation(session, conversation=conversation, team=world["theirs"])
    assert not can_access_customer(session, world["me"], customer.id)
    assert can_access_customer(session, world["stranger"], customer.id)


def test_ticket_of_my_team_allowed(session, world):
    customer = make_customer(session, agent=world["stranger"])
    make_ticket(session, customer=customer, team=world["mine"])
    assert can_access_customer(session, world["me"], customer.id)


def test_ticket_assigned_to_me_allowed(session, world):
    customer = make_customer(session, agent=world["stranger"])
    loner = make_agent(session)  # no team at all
    make_ticket(session, customer=customer, assignee=loner)
    assert can_access_customer(session, loner, customer.id)
    assert not can_access_customer(session, world["me"], customer.id)


def test_conversation_held_by_me_allowed(session, world):
    customer = make_customer(session, agent=world["stranger"])
    make_conversation(
        session, customer=customer, status=ConversationStatus.agent, agent=world["me"]
    )
    assert can_access_customer(session, world["me"], customer.id)
    assert not can_access_customer(session, world["mate"], customer.id)


def test_agent_without_team_sees_only_own(session, world):
    loner = make_agent(session)
    own = make_customer(session, agent=loner)
    other = make_customer(session, agent=make_agent(session))
    assert can_access_customer(session, loner, own.id)
    # two team-less agents are not each other's team
    assert not can_access_customer(session, loner, other.id)


# --- through the API ----------------------------------------------------------


def _history(client, customer_id, headers):  # type: ignore[no-untyped-def]
    return client.get(
        f"/api/v1/agent/customers/{customer_id}/assignments", headers=headers
    )


def test_api_refuses_another_teams_customer_by_id(client, session, world):
    mine = make_customer(session, agent=world["me"])
    theirs = make_customer(session, agent=world["stranger"])
    headers = login(client, world["me"])
    assert _history(client, mine.id, headers).status_code == 200
    refused = _history(client, theirs.id, headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert _history(client, theirs.id, login(client, world["boss"])).status_code == 200


def test_departed_agents_sessions_are_rejected(client, session, world):
    customer = make_customer(session, agent=world["me"])
    leaver_headers = login(client, world["me"])
    assert _history(client, customer.id, leaver_headers).status_code == 200
    flows.depart_agent(
        session,
        agent_id=world["me"].id,
        by=world["boss"],
        successor_id=world["mate"].id,
    )
    # sessions are revoked by the departure...
    assert _history(client, customer.id, leaver_headers).status_code == 401
    assert client.get("/api/v1/agent/me", headers=leaver_headers).status_code == 401
    # ...and a departed agent cannot log in again
    response = client.post(
        "/api/v1/agent/auth/login",
        json={"employee_no": world["me"].employee_no, "password": PASSWORD},
    )
    assert response.status_code == 403
