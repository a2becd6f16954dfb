"""The agents' ticket queue: filters, the nearest-deadline order, and the names a
row shows (customer, tier, assignee, team, event actors)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from crm_backend.agents.access import is_supervisor
from crm_backend.models import (
    Agent,
    Customer,
    CustomerScore,
    Policy,
    Team,
    Ticket,
    TicketEvent,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    Severity,
    TicketCategory,
    TicketStatus,
    ValueTier,
)
from crm_backend.tickets import sla

# "breaching soon": an open deadline this close (the console colours it amber)
ACK_SOON = timedelta(hours=4)
RESOLVE_SOON = timedelta(hours=48)
# the note lifecycle.assign writes: "agent=3 team=2" (then "；" and the agent's note)
_ASSIGNED = re.compile(r"^agent=(\d+|None) team=(\d+|None)(?:；(.*))?$", re.S)


class Sort(StrEnum):
    """List orders: resolution deadline (default), the nearest open deadline,
    priority, newest."""

    resolve_due = "resolve_due"
    deadline = "deadline"
    priority = "priority"
    newest = "newest"


class QueueRow(NamedTuple):
    """A ticket with what its row shows besides its own columns."""

    ticket: Ticket
    customer_name: str
    customer_phone: str | None
    customer_tier: ValueTier | None
    policy_no: str | None
    assignee: Agent | None
    team_name: str | None


@dataclass(frozen=True)
class EventRow:
    """A log entry with its actor and, for an assignment, who and which team."""

    event: TicketEvent
    actor: Agent | None
    assigned_agent: Agent | None
    assigned_team: str | None
    assign_note: str | None


def visible_to(agent: Agent) -> ColumnElement[bool]:
    """SQL truth of "the agent may see this ticket" (``service.can_access``'s rule)."""
    if is_supervisor(agent):
        return true()
    mine = Ticket.assignee_id == agent.id
    if agent.team_id is None:
        return mine
    return or_(mine, Ticket.team_id == agent.team_id)


def next_due_clause() -> ColumnElement[datetime | None]:
    """The open deadline that comes next: to acknowledge, else to resolve."""
    return case(
        (Ticket.status == TicketStatus.received, Ticket.ack_due_at),
        (Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.resolve_due_at),
        else_=None,
    )


def due_soon_clause(now: datetime) -> ColumnElement[bool]:
    """Not breached yet, but a deadline falls within its "soon" window."""
    ack_soon = and_(
        Ticket.status == TicketStatus.received, Ticket.ack_due_at <= now + ACK_SOON
    )
    resolve_soon = and_(
        Ticket.status.in_(OPEN_TICKET_STATUSES),
        Ticket.resolve_due_at <= now + RESOLVE_SOON,
    )
    return and_(~sla.breached_clause(now), or_(ack_soon, resolve_soon))


def _tier_clause(tier: ValueTier) -> ColumnElement[bool]:
    # a customer without a score yet counts as standard, as priority scoring does
    if tier == ValueTier.standard:
        return or_(CustomerScore.value_tier == tier, CustomerScore.value_tier.is_(None))
    return CustomerScore.value_tier == tier


_assignee = aliased(Agent)


def _rows() -> Select[Ticket, str, str, ValueTier, str, Agent, str]:
    return (
        select(
            Ticket,
            Customer.name,
            Customer.phone,
            CustomerScore.value_tier,
            Policy.policy_no,
            _assignee,
            Team.name,
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(CustomerScore, CustomerScore.customer_id == Ticket.customer_id)
        .outerjoin(Policy, Policy.id == Ticket.policy_id)
        .outerjoin(_assignee, _assignee.id == Ticket.assignee_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
    )


def _row(values: Sequence[Any]) -> QueueRow:
    ticket, name, phone, tier, policy_no, assignee, team_name = values
    return QueueRow(ticket, name or "", phone, tier, policy_no, assignee, team_name)


def row_of(session: Session, ticket: Ticket) -> QueueRow:
    """One ticket's row (the detail view shows the same names)."""
    values = session.execute(_rows().where(Ticket.id == ticket.id)).one()
    return _row(values)


def _order(sort: Sort) -> list[Any]:
    if sort == Sort.deadline:
        due = next_due_clause()
        # closed tickets have no deadline: after every open one
        return [due.is_(None), due, Ticket.priority.desc(), Ticket.id]
    if sort == Sort.priority:
        return [Ticket.priority.desc(), Ticket.resolve_due_at, Ticket.id]
    if sort == Sort.newest:
        return [Ticket.created_at.desc(), Ticket.id.desc()]
    return [Ticket.resolve_due_at, Ticket.priority.desc(), Ticket.id]


def list_for_agent(
    session: Session,
    *,
    agent: Agent,
    statuses: Sequence[TicketStatus] = (),
    mine: bool = False,
    team_id: int | None = None,
    breached: bool | None = None,
    due_soon: bool = False,
    category: TicketCategory | None = None,
    severity: Severity | None = None,
    tier: ValueTier | None = None,
    sort: Sort = Sort.resolve_due,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[QueueRow], int]:
    """The tickets the agent may see, filtered and ordered; and their total."""
    now = now or utcnow()
    filters: list[ColumnElement[bool]] = [visible_to(agent)]
    if statuses:
        filters.append(Ticket.status.in_(statuses))
    if mine:
        filters.append(Ticket.assignee_id == agent.id)
    if team_id is not None:
        filters.append(Ticket.team_id == team_id)
    if breached is not None:
        clause = sla.breached_clause(now)
        filters.append(clause if breached else ~clause)
    if due_soon:
        filters.append(due_soon_clause(now))
    if category is not None:
        filters.append(Ticket.category == category)
    if severity is not None:
        filters.append(Ticket.severity == severity)
    if tier is not None:
        filters.append(_tier_clause(tier))
    counted = (
        select(func.count(Ticket.id))
        .outerjoin(CustomerScore, CustomerScore.customer_id == Ticket.customer_id)
        .where(*filters)
    )
    total = session.scalar(counted) or 0
    rows = session.execute(
        _rows().where(*filters).order_by(*_order(sort)).limit(limit).offset(offset)
    ).all()
    return [_row(values) for values in rows], total


def _assignment(event: TicketEvent) -> tuple[int | None, int | None, str | None]:
    """The agent id, team id and note an "assigned" entry names (else Nones)."""
    match = _ASSIGNED.match(event.note or "") if event.kind == "assigned" else None
    if match is None:
        return None, None, None
    agent_id, team_id, note = match.groups()
    return _id(agent_id), _id(team_id), note


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def event_rows(session: Session, events: Sequence[TicketEvent]) -> list[EventRow]:
    """The log with its actors and the assignees it names, in one query each."""
    assigned = {e.id: _assignment(e) for e in events}
    agent_ids = {e.actor_id for e in events} | {a for a, _, _ in assigned.values()}
    team_ids = {t for _, t, _ in assigned.values()}
    agents = {
        a.id: a
        for a in session.scalars(select(Agent).where(Agent.id.in_(agent_ids - {None})))
    }
    teams = dict(
        session.execute(
            select(Team.id, Team.name).where(Team.id.in_(team_ids - {None}))
        ).all()
    )
    rows = []
    for event in events:
        agent_id, team_id, note = assigned[event.id]
        rows.append(
            EventRow(
                event=event,
                actor=agents.get(event.actor_id) if event.actor_id else None,
                assigned_agent=agents.get(agent_id) if agent_id else None,
                assigned_team=teams.get(team_id) if team_id else None,
                assign_note=note,
            )
        )
    return rows
