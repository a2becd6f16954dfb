"""Complaint tickets over HTTP: the bot's create/follow-up and the agent's queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.console.dispatch import NotifyDep
from crm_backend.console.hub import tickets_hint
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.core.errors import Forbidden
from crm_backend.core.outbox import pending
from crm_backend.models import Ticket
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    Severity,
    TicketCategory,
    TicketStatus,
    ValueTier,
)
from crm_backend.tickets import bulk, lifecycle, notices, queue, service, stats
from crm_backend.tickets.queue import ACK_SOON, RESOLVE_SOON, Sort
from crm_backend.tickets.schemas import (
    EVENT_LABELS,
    AssignIn,
    BreachSummary,
    BulkAcknowledgeIn,
    BulkAssignIn,
    BulkResult,
    CustomerEventRead,
    CustomerTextIn,
    DeliveredIn,
    NoteIn,
    NoticeList,
    NoticeRead,
    ProposeIn,
    ReopenIn,
    ResolveIn,
    TicketCreate,
    TicketCustomerList,
    TicketDetail,
    TicketEventRead,
    TicketFollowUp,
    TicketList,
    TicketRead,
    TicketStats,
    TicketSummary,
    VerbIn,
)

service_router = APIRouter(tags=["tickets (service)"])
agent_router = APIRouter(prefix="/tickets", tags=["tickets (agent)"])


def _follow_up(session: Session, ticket: Ticket) -> TicketFollowUp:
    visible = service.events(session, ticket_id=ticket.id, customer_visible_only=True)
    base = TicketSummary.of(ticket).model_dump()
    return TicketFollowUp(
        **base,
        policy_no=service.policy_no_of(session, ticket),
        description=ticket.description,
        desired_outcome=ticket.desired_outcome,
        outcome=ticket.outcome,
        **notices.latest_step(ticket, visible),
        events=[
            CustomerEventRead(
                kind=e.kind,
                label=EVENT_LABELS.get(e.kind, e.kind),
                at=e.created_at,
                note=e.note,
            )
            for e in visible
        ],
    )


def _detail(session: Session, ticket: Ticket) -> TicketDetail:
    row = TicketRead.of_row(queue.row_of(session, ticket))
    log = queue.event_rows(session, service.events(session, ticket_id=ticket.id))
    return TicketDetail(**row.model_dump(), events=[TicketEventRead.of(e) for e in log])


def _announce(session: Session, ticket: Ticket) -> None:
    # called before and after a verb, so a hand-over reaches both desks
    pending(session).hint(
        tickets_hint(
            ticket.id, agent_ids=[ticket.assignee_id], team_ids=[ticket.team_id]
        )
    )


def _done(session: Session, notify: NotifyDep, ticket: Ticket) -> TicketDetail:
    _announce(session, ticket)
    notify.after_commit(session)
    return _detail(session, ticket)


@service_router.post("/tickets", response_model=TicketSummary, status_code=201)
def create_ticket(
    ticket_in: TicketCreate,
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
) -> TicketSummary:
    """Open a complaint ticket; the answer carries its number and both deadlines."""
    ticket = service.create(session, ticket_in=ticket_in, settings=settings)
    _announce(session, ticket)
    notify.after_commit(session)
    return TicketSummary.of(ticket)


@service_router.get("/tickets/{ticket_no}", response_model=TicketFollowUp)
def follow_up_ticket(
    ticket_no: str, customer_id: Annotated[int, Query()], session: SessionDep
) -> TicketFollowUp:
    """The customer's ticket with its visible history (404 for anyone else's)."""
    ticket = service.get_for_customer(
        session, ticket_no=ticket_no, customer_id=customer_id
    )
    return _follow_up(session, ticket)


@service_router.get(
    "/customers/{customer_id}/tickets", response_model=TicketCustomerList
)
def customer_tickets(customer_id: int, session: SessionDep) -> TicketCustomerList:
    """The customer's tickets, open first, newest first."""
    tickets = service.list_for_customer(session, customer_id=customer_id)
    items = [TicketSummary.of(t) for t in tickets]
    open_count = sum(1 for t in tickets if t.status in OPEN_TICKET_STATUSES)
    return TicketCustomerList(items=items, open_count=open_count)


@service_router.get("/customers/{customer_id}/notices", response_model=NoticeList)
def customer_notices(
    customer_id: int, session: SessionDep, undelivered: bool = False
) -> NoticeList:
    """The customer's ticket notices, oldest first (``undelivered=1``: pending)."""
    rows = notices.for_customer(
        session, customer_id=customer_id, undelivered=undelivered
    )
    return NoticeList(items=[NoticeRead.model_validate(n) for n in rows])


@service_router.post(
    "/customers/{customer_id}/notices/{notice_id}/delivered",
    response_model=NoticeRead,
)
def notice_delivered(
    customer_id: int,
    notice_id: int,
    session: SessionDep,
    body: DeliveredIn | None = None,
) -> NoticeRead:
    """Mark a notice delivered (idempotent: the first delivery time stays)."""
    notice = notices.mark_delivered(
        session,
        customer_id=customer_id,
        notice_id=notice_id,
        at=utcnow(),
        channel=body.channel if body else None,
    )
    return NoticeRead.model_validate(notice)


@agent_router.get("", response_model=TicketList)
def list_tickets(
    agent: CurrentAgent,
    session: SessionDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    mine: bool = False,
    team: int | None = None,
    breached: bool | None = None,
    due_soon: bool = False,
    category: TicketCategory | None = None,
    severity: Severity | None = None,
    tier: ValueTier | None = None,
    sort: Sort = Sort.resolve_due,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TicketList:
    """Tickets the agent may see (all for supervisors), by resolution deadline or
    ``sort=deadline`` (the nearest open deadline first); ``due_soon``: not breached
    but within the "breaching soon" window; ``tier``: the customer's value tier."""
    now = utcnow()
    rows, total = queue.list_for_agent(
        session,
        agent=agent,
        statuses=status or (),
        mine=mine,
        team_id=team,
        breached=breached,
        due_soon=due_soon,
        category=category,
        severity=severity,
        tier=tier,
        sort=sort,
        limit=limit,
        offset=offset,
        now=now,
    )
    return TicketList(
        items=[TicketRead.of_row(row) for row in rows],
        total=total,
        as_of=now,
        ack_soon_minutes=int(ACK_SOON.total_seconds() // 60),
        resolve_soon_minutes=int(RESOLVE_SOON.total_seconds() // 60),
    )


@agent_router.get("/breaches", response_model=BreachSummary)
def breaches(
    agent: CurrentAgent, session: SessionDep, include_closed: bool = False
) -> BreachSummary:
    """SLA breaches by team and category (supervisors only)."""
    if not is_supervisor(agent):
        raise Forbidden("Only supervisors see the breach summary")
    summary = lifecycle.breach_summary(
        session, now=utcnow(), include_closed=include_closed
    )
    return BreachSummary.model_validate(summary)


@agent_router.get("/stats", response_model=TicketStats)
def ticket_stats(
    agent: CurrentAgent,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> TicketStats:
    """Backlog, breach rate, average hours to acknowledge and to resolve, by team
    and by category (supervisors only)."""
    if not is_supervisor(agent):
        raise Forbidden("Only supervisors see the ticket statistics")
    return TicketStats.model_validate(stats.summary(session, now=utcnow(), days=days))


@agent_router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(
    ticket_id: int, agent: CurrentAgent, session: SessionDep
) -> TicketDetail:
    """One ticket with its whole event log."""
    ticket = service.get_for_agent(session, ticket_id=ticket_id, agent=agent)
    return _detail(session, ticket)


def _locked(session: Session, ticket_id: int, agent: CurrentAgent) -> Ticket:
    ticket = service.get_for_agent(
        session, ticket_id=ticket_id, agent=agent, for_update=True
    )
    _announce(session, ticket)
    return ticket


@agent_router.post("/bulk-assign", response_model=BulkResult)
def bulk_assign(
    body: BulkAssignIn, agent: CurrentAgent, session: SessionDep, notify: NotifyDep
) -> BulkResult:
    """Hand many tickets to one agent and/or team; refusals come back per ticket."""
    result = bulk.assign(
        session,
        ticket_ids=body.ticket_ids,
        actor=agent,
        agent_id=body.agent_id,
        team_id=body.team_id,
        note=body.note,
    )
    notify.after_commit(session)
    return result


@agent_router.post("/bulk-acknowledge", response_model=BulkResult)
def bulk_acknowledge(
    body: BulkAcknowledgeIn, agent: CurrentAgent, session: SessionDep, notify: NotifyDep
) -> BulkResult:
    """Confirm receipt of many tickets; each customer is told as for one."""
    result = bulk.acknowledge(
        session, ticket_ids=body.ticket_ids, actor=agent, note=body.note
    )
    notify.after_commit(session)
    return result


@agent_router.post("/{ticket_id}/assign", response_model=TicketDetail)
def assign_ticket(
    ticket_id: int,
    body: AssignIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """Hand the ticket to an agent and/or a team."""
    ticket = lifecycle.assign(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        agent_id=body.agent_id,
        team_id=body.team_id,
        note=body.note,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/acknowledge", response_model=TicketDetail)
def acknowledge_ticket(
    ticket_id: int,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
    body: VerbIn | None = None,
) -> TicketDetail:
    """received → acknowledged."""
    ticket = lifecycle.acknowledge(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        note=body.note if body else None,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/investigate", response_model=TicketDetail)
def investigate_ticket(
    ticket_id: int,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
    body: VerbIn | None = None,
) -> TicketDetail:
    """acknowledged → investigating."""
    ticket = lifecycle.investigate(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        note=body.note if body else None,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/resolve", response_model=TicketDetail)
def resolve_ticket(
    ticket_id: int,
    body: ResolveIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """acknowledged / investigating → resolved, with the outcome."""
    ticket = lifecycle.resolve(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        outcome=body.outcome,
        note=body.note,
        remedy=body.remedy,
        refund_fen=body.refund_fen,
        remedy_reason=body.remedy_reason,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/update", response_model=TicketDetail)
def update_ticket(
    ticket_id: int,
    body: CustomerTextIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """Tell the customer how it is going (no status change; a notice is left)."""
    ticket = lifecycle.update(
        session, ticket=_locked(session, ticket_id, agent), actor=agent, text=body.text
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/request-info", response_model=TicketDetail)
def request_info_ticket(
    ticket_id: int,
    body: CustomerTextIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """Ask the customer for information (no status change; the SLA keeps running)."""
    ticket = lifecycle.request_info(
        session, ticket=_locked(session, ticket_id, agent), actor=agent, text=body.text
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/propose", response_model=TicketDetail)
def propose_ticket(
    ticket_id: int,
    body: ProposeIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """Put a resolution to the customer (no status change; a notice is left)."""
    ticket = lifecycle.propose(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        proposal=body.proposal,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/close", response_model=TicketDetail)
def close_ticket(
    ticket_id: int,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
    body: VerbIn | None = None,
) -> TicketDetail:
    """resolved → closed."""
    ticket = lifecycle.close(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        note=body.note if body else None,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/reopen", response_model=TicketDetail)
def reopen_ticket(
    ticket_id: int,
    body: ReopenIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """resolved / closed → investigating, with the reason."""
    ticket = lifecycle.reopen(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        reason=body.reason,
    )
    return _done(session, notify, ticket)


@agent_router.post("/{ticket_id}/notes", response_model=TicketDetail)
def add_ticket_note(
    ticket_id: int,
    body: NoteIn,
    agent: CurrentAgent,
    session: SessionDep,
    notify: NotifyDep,
) -> TicketDetail:
    """A note in the log, shown to the customer only when ``customer_visible``."""
    ticket = lifecycle.add_note(
        session,
        ticket=_locked(session, ticket_id, agent),
        actor=agent,
        text=body.text,
        customer_visible=body.customer_visible,
    )
    return _done(session, notify, ticket)
