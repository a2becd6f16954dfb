"""The complaint breach job: flag SLA breaches and escalate them to a supervisor."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.models import Team, Ticket, TicketEvent
from crm_backend.models.enums import AgentRole, AgentStatus, TicketStatus
from crm_backend.tickets import jobs, lifecycle
from tests import aio
from tests.factories import login, make_agent, make_customer, make_team, make_ticket

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
AGENT_TICKETS = "/api/v1/agent/tickets"


def _events(session: Session, ticket: Ticket, kind: str) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
            .order_by(TicketEvent.id)
        )
    )


def test_breach_is_flagged_and_escalated_to_the_team_supervisor_once(
    session: Session, desk: Team, time_machine: Any
) -> None:
    other = make_team(session, code="general", topics=["general"])
    make_agent(session, team=other, role=AgentRole.supervisor, name="别组主管")
    boss = make_agent(session, team=desk, role=AgentRole.supervisor, name="钱主管")
    worker = make_agent(session, team=desk, name="周静")
    customer = make_customer(session)
    late = make_ticket(
        session, customer=customer, team=desk, assignee=worker, created_at=NOW
    )
    on_time = make_ticket(
        session, customer=customer, team=desk, created_at=NOW + timedelta(hours=12)
    )

    time_machine.move_to(NOW + timedelta(hours=23), tick=False)
    assert jobs.sweep(session, now=NOW + timedelta(hours=23)) == jobs.Swept()

    when = NOW + timedelta(days=1, minutes=1)
    swept = jobs.sweep(session, now=when)
    assert swept.flagged == [late.id] and swept.escalated == [late.id]
    assert late.ack_breached
    assert late.escalated_to_id == boss.id and late.escalated_at == when
    # the agent keeps the ticket; the supervisor has it flagged
    assert late.assignee_id == worker.id
    [event] = _events(session, late, "escalated")
    assert event.actor_id is None and event.customer_visible is False
    assert "钱主管" in (event.note or "") and lifecycle.ACK_BREACH_NOTE in (
        event.note or ""
    )
    assert on_time.escalated_to_id is None

    # the resolution breach is flagged later, but the ticket is not escalated again
    swept = jobs.sweep(session, now=NOW + timedelta(days=15, seconds=1))
    assert set(swept.flagged) == {late.id, on_time.id}
    assert swept.escalated == [on_time.id]
    assert len(_events(session, late, "escalated")) == 1
    # on_time's own resolution breach: flagged, already escalated
    swept = jobs.sweep(session, now=NOW + timedelta(days=20))
    assert swept == jobs.Swept(flagged=[on_time.id], escalated=[])
    assert jobs.sweep(session, now=NOW + timedelta(days=21)) == jobs.Swept()


def test_escalation_falls_back_to_any_supervisor_and_waits_for_one(
    session: Session, desk: Team
) -> None:
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, created_at=NOW
    )
    later = NOW + timedelta(days=2)
    # no active supervisor anywhere: flagged, not escalated, retried next run
    gone = make_agent(session, role=AgentRole.supervisor, name="已离职主管")
    gone.status = AgentStatus.departed
    session.flush()
    swept = jobs.sweep(session, now=later)
    assert swept.flagged == [ticket.id] and swept.escalated == []
    assert ticket.escalated_to_id is None

    other = make_team(session, code="general", topics=["general"])
    boss = make_agent(session, team=other, role=AgentRole.supervisor, name="钱主管")
    swept = jobs.sweep(session, now=later + timedelta(minutes=1))
    assert swept.flagged == [] and swept.escalated == [ticket.id]
    assert ticket.escalated_to_id == boss.id


def test_a_breach_noted_by_a_late_verb_is_escalated_by_the_next_run(
    client: TestClient, session: Session, desk: Team, time_machine: Any
) -> None:
    boss = make_agent(session, team=desk, role=AgentRole.supervisor, name="钱主管")
    worker = make_agent(session, team=desk, name="周静")
    ticket = make_ticket(
        session, customer=make_customer(session), team=desk, created_at=NOW
    )
    time_machine.move_to(NOW + timedelta(days=2), tick=False)
    headers = login(client, worker)
    assert (
        client.post(f"{AGENT_TICKETS}/{ticket.id}/acknowledge", headers=headers).json()[
            "ack_breached"
        ]
        is True
    )
    swept = jobs.sweep(session, now=NOW + timedelta(days=2, minutes=1))
    assert swept.flagged == [] and swept.escalated == [ticket.id]
    body = client.get(f"{AGENT_TICKETS}/{ticket.id}", headers=headers).json()
    assert body["escalated_to_id"] == boss.id
    assert [e["kind"] for e in body["events"]][-1] == "escalated"


def test_closed_tickets_are_not_escalated(session: Session, desk: Team) -> None:
    make_agent(session, team=desk, role=AgentRole.supervisor)
    done = make_ticket(
        session,
        customer=make_customer(session),
        team=desk,
        created_at=NOW,
        status=TicketStatus.closed,
    )
    done.resolve_breached = True
    session.flush()
    assert jobs.sweep(session, now=NOW + timedelta(days=30)) == jobs.Swept()


def test_sweeper_loop_commits(session: Session, settings: Settings, desk: Team) -> None:
    """``run_ticket_sweeper`` with the test's connection: one pass, then cancelled."""
    boss = make_agent(session, team=desk, role=AgentRole.supervisor)
    ticket = make_ticket(
        session,
        customer=make_customer(session),
        team=desk,
        created_at=datetime.now(UTC) - timedelta(days=2),
    )
    connection = session.connection()
    committed = threading.Event()

    class Recording(Session):
        # The pass's commit is the signal: probing the shared connection from the
        # loop's thread while the pass runs could roll its savepoint back.
        def commit(self) -> None:
            super().commit()
            committed.set()

    def sessions() -> Session:
        return Recording(bind=connection, join_transaction_mode="create_savepoint")

    async def one_pass() -> None:
        task = asyncio.create_task(jobs.run_ticket_sweeper(settings, sessions))
        await asyncio.to_thread(committed.wait, 30)
        task.cancel()

    aio.run(one_pass())
    session.expire_all()
    assert session.get(Ticket, ticket.id).escalated_to_id == boss.id  # type: ignore[union-attr]


def test_rows_are_taken_with_skip_locked_on_postgresql(
    session: Session, desk: Team
) -> None:
    """Two CRM workers never wait on, nor both take, the same ticket."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    make_agent(session, team=desk, role=AgentRole.supervisor)
    make_ticket(session, customer=make_customer(session), team=desk, created_at=NOW)
    seen: list[str] = []
    connection = session.connection()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        jobs.sweep(session, now=NOW + timedelta(days=2))
    finally:
        event.remove(connection, "before_cursor_execute", record)
    locking = [s for s in seen if "FOR UPDATE" in s]
    assert len(locking) == 2
    assert all("SKIP LOCKED" in s for s in locking)


def test_sweep_settings() -> None:
    defaults = Settings()
    assert defaults.ticket_sweep_enabled is True
    assert defaults.ticket_sweep_seconds == 60
