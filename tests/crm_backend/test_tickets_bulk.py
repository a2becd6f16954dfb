"""Bulk assign and acknowledge: each ticket as the single verb would, refusals per
ticket, and a bad request refused as a whole."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.models import Agent, Team, Ticket, TicketEvent
from crm_backend.models.enums import AgentRole, TicketStatus
from crm_backend.tickets import service
from tests.factories import login, make_agent, make_customer, make_team, make_ticket

TICKETS = "/api/v1/agent/tickets"
SERVICE = "/api/v1/service"


@pytest.fixture()
def general(session: Session) -> Team:
    """Another team."""
    return make_team(session, code="general", name="综合服务组", topics=["general"])


@pytest.fixture()
def people(session: Session, desk: Team, general: Team) -> dict[str, Agent]:
    """Two complaints agents, an agent of another team and a supervisor."""
    other = general
    return {
        "desk": make_agent(session, team=desk, name="周静"),
        "mate": make_agent(session, team=desk, name="吴敏"),
        "outsider": make_agent(session, team=other, name="孙强"),
        "boss": make_agent(session, team=other, role=AgentRole.supervisor),
    }


def _ticket(session: Session, team: Team, **kw: Any) -> Ticket:
    return make_ticket(session, customer=make_customer(session), team=team, **kw)


def _bulk(client: TestClient, headers: dict[str, str], verb: str, **body: Any) -> Any:
    return client.post(f"{TICKETS}/bulk-{verb}", json=body, headers=headers)


def _events(session: Session, ticket: Ticket, kind: str) -> list[TicketEvent]:
    session.expire_all()
    return [e for e in service.events(session, ticket_id=ticket.id) if e.kind == kind]


def test_bulk_assign_moves_what_it_may_and_says_why_not_for_the_rest(
    client: TestClient,
    session: Session,
    desk: Team,
    general: Team,
    people: dict[str, Agent],
) -> None:
    first, second = _ticket(session, desk), _ticket(session, desk)
    closed = _ticket(session, desk, status=TicketStatus.closed)
    elsewhere = _ticket(session, general)
    headers = login(client, people["desk"])
    response = _bulk(
        client,
        headers,
        "assign",
        ticket_ids=[first.id, elsewhere.id, closed.id, second.id, first.id, 999999],
        agent_id=people["mate"].id,
        note="批量转给吴敏跟进",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["done"] == [first.id, second.id]  # once each, in the given order
    refused = {r["ticket_id"]: r["code"] for r in body["refused"]}
    assert refused == {
        elsewhere.id: "forbidden",
        closed.id: "invalid_transition",
        999999: "not_found",
    }
    session.expire_all()
    for ticket in (first, second):
        session.refresh(ticket)
        assert ticket.assignee_id == people["mate"].id and ticket.team_id == desk.id
        (event,) = _events(session, ticket, "assigned")
        assert event.actor_id == people["desk"].id
        assert "批量转给吴敏跟进" in (event.note or "")
    for ticket in (closed, elsewhere):
        session.refresh(ticket)
        assert ticket.assignee_id is None and not _events(session, ticket, "assigned")


def test_a_supervisor_may_move_any_team_s_tickets_to_a_team(
    client: TestClient,
    session: Session,
    desk: Team,
    general: Team,
    people: dict[str, Agent],
) -> None:
    tickets = [_ticket(session, desk), _ticket(session, general)]
    response = _bulk(
        client,
        login(client, people["boss"]),
        "assign",
        ticket_ids=[t.id for t in tickets],
        team_id=desk.id,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"done": [t.id for t in tickets], "refused": []}
    session.expire_all()
    assert {session.get(Ticket, t.id).team_id for t in tickets} == {desk.id}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"ticket_ids": [], "team_id": 1}, 422),  # nothing selected
        ({"ticket_ids": list(range(1, 202)), "team_id": 1}, 422),  # over a page
        ({"ticket_ids": ["T1"], "team_id": 1}, 422),  # ids, not numbers
    ],
)
def test_malformed_bulk_requests_are_refused(
    client: TestClient, people: dict[str, Agent], body: dict[str, Any], status: int
) -> None:
    headers = login(client, people["desk"])
    assert _bulk(client, headers, "assign", **body).status_code == status


@pytest.mark.parametrize(
    "target, code",
    [
        ({}, "nothing_to_assign"),
        ({"agent_id": 999999}, "agent_not_found"),
        ({"team_id": 999999}, "team_not_found"),
    ],
)
def test_a_bad_target_refuses_the_whole_request_and_changes_nothing(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    target: dict[str, int],
    code: str,
) -> None:
    tickets = [_ticket(session, desk), _ticket(session, desk)]
    response = _bulk(
        client,
        login(client, people["desk"]),
        "assign",
        ticket_ids=[t.id for t in tickets],
        **target,
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == code
    assert not any(_events(session, t, "assigned") for t in tickets)


def test_bulk_acknowledge_tells_each_customer_and_skips_the_acknowledged(
    client: TestClient,
    session: Session,
    desk: Team,
    people: dict[str, Agent],
    service_headers: dict[str, str],
) -> None:
    fresh = [_ticket(session, desk), _ticket(session, desk)]
    already = _ticket(session, desk, status=TicketStatus.acknowledged)
    response = _bulk(
        client,
        login(client, people["desk"]),
        "acknowledge",
        ticket_ids=[fresh[0].id, already.id, fresh[1].id],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["done"] == [fresh[0].id, fresh[1].id]
    assert [(r["ticket_id"], r["code"]) for r in body["refused"]] == [
        (already.id, "invalid_transition")
    ]
    session.expire_all()
    for ticket in fresh:
        session.refresh(ticket)
        assert ticket.status == TicketStatus.acknowledged
        assert ticket.acknowledged_at is not None
        # unassigned tickets belong to whoever acknowledged them, as for one
        assert ticket.assignee_id == people["desk"].id
        notices = client.get(
            f"{SERVICE}/customers/{ticket.customer_id}/notices",
            headers=service_headers,
        ).json()["items"]
        assert [n["kind"] for n in notices] == ["acknowledged"]
        assert ticket.ticket_no in notices[0]["text"]
    assert not _events(session, already, "acknowledged")
