"""The complaint breach job: flag SLA breaches and raise each breached ticket to
its team's supervisor, once.

Everything it needs is in the database (deadlines, breach flags, ``escalated_to_id``),
so a restart loses nothing: a ticket flagged by a late verb, or by a run that died
before escalating, is escalated by the next run. Two CRM workers may run it at once:
on PostgreSQL each takes its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (SQLite
serialises writers).

Escalation (once per ticket, whichever deadline breached first): ``escalated_to_id``
and ``escalated_at`` are set and an ``escalated`` event attributed to the system
(no actor) names the supervisor. The assignee is left as it was — the agent keeps
working the ticket; the supervisor sees it flagged as escalated to them. The
supervisor is the lowest-id active supervisor of the ticket's team, else of any
team; with no active supervisor at all the ticket waits for the next run.

Run by the app's lifespan every ``CRM_TICKET_SWEEP_SECONDS`` (60) unless
``CRM_TICKET_SWEEP_ENABLED=false``; tests call :func:`sweep` with their own ``now``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.models import Agent, Ticket
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    AgentRole,
    AgentStatus,
)
from crm_backend.tickets import lifecycle
from crm_backend.tickets.service import add_event

log = logging.getLogger(__name__)
ESCALATE_BATCH = 200


@dataclass
class Swept:
    """What one run did: the tickets newly flagged and those escalated."""

    flagged: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def supervisor_for(session: Session, ticket: Ticket) -> Agent | None:
    """The ticket's team's active supervisor, else any active supervisor."""
    own_team = case((Agent.team_id == ticket.team_id, 0), else_=1)
    return session.scalar(
        select(Agent)
        .where(
            Agent.role == AgentRole.supervisor,
            Agent.status == AgentStatus.active,
        )
        .order_by(own_team, Agent.id)
        .limit(1)
    )


def escalate_breached(session: Session, *, now: datetime) -> list[int]:
    """Raise every breached, open, not yet escalated ticket to a supervisor."""
    due = session.scalars(
        select(Ticket)
        .where(
            Ticket.escalated_to_id.is_(None),
            Ticket.status.in_(OPEN_TICKET_STATUSES),
            or_(Ticket.ack_breached.is_(True), Ticket.resolve_breached.is_(True)),
        )
        .order_by(Ticket.id)
        .limit(ESCALATE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    escalated: list[int] = []
    for ticket in due:
        supervisor = supervisor_for(session, ticket)
        if supervisor is None:
            continue
        which = (
            lifecycle.ACK_BREACH_NOTE
            if ticket.ack_breached
            else lifecycle.RESOLVE_BREACH_NOTE
        )
        ticket.escalated_to_id = supervisor.id
        ticket.escalated_at = now
        ticket.updated_at = now
        add_event(
            session,
            ticket,
            kind="escalated",
            at=now,
            note=f"{which}，系统已升级至主管{supervisor.name}（工号{supervisor.employee_no}）",
        )
        escalated.append(ticket.id)
    session.flush()
    return escalated


def sweep(session: Session, *, now: datetime | None = None) -> Swept:
    """One run: flag breaches, then escalate. Flushes only; the caller commits."""
    now = now or utcnow()
    flagged = [t.id for t in lifecycle.flag_breaches(session, now=now)]
    escalated = escalate_breached(session, now=now)
    return Swept(flagged=flagged, escalated=escalated)


def sweep_once(sessions: Callable[[], Session] | None = None) -> Swept:
    """Run in a session of its own and commit."""
    session = (sessions or get_sessionmaker())()
    try:
        swept = sweep(session)
        session.commit()
        return swept
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


async def run_ticket_sweeper(
    settings: Settings, sessions: Callable[[], Session] | None = None
) -> None:
    """Run every ``ticket_sweep_seconds`` until cancelled (the app's lifespan)."""
    while True:
        try:
            swept = await asyncio.to_thread(sweep_once, sessions)
            if swept.flagged or swept.escalated:
                log.info(
                    "ticket sweep: %d flagged, %d escalated",
                    len(swept.flagged),
                    len(swept.escalated),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ticket sweep failed; trying again")
        await asyncio.sleep(settings.ticket_sweep_seconds)
