"""Ticket lifecycle verbs and SLA breach flagging.

received → acknowledged → investigating → resolved → closed; resolve is also allowed
from acknowledged, and reopen takes a resolved or closed ticket back to investigating.
update, request-info and propose change no status (they need an acknowledged,
unresolved ticket; request-info stamps ``info_requested_at`` and the SLA clock keeps
running). Every customer-visible verb but close and reopen leaves a pending notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.errors import Conflict, Unprocessable
from crm_backend.models import Agent, Team, Ticket
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    AgentStatus,
    TicketCategory,
    TicketRemedy,
    TicketStatus,
)
from crm_backend.tickets import delivery, notices, sla
from crm_backend.tickets.schemas import CATEGORY_LABELS, STATUS_LABELS
from crm_backend.tickets.service import add_event

S = TicketStatus


class Move(NamedTuple):
    """A verb's allowed sources, target, the timestamp it sets and its event kind."""

    sources: frozenset[TicketStatus]
    target: TicketStatus
    stamp: str
    kind: str


TRANSITIONS = {
    "acknowledge": Move(
        frozenset({S.received}), S.acknowledged, "acknowledged_at", "acknowledged"
    ),
    "investigate": Move(
        frozenset({S.acknowledged}),
        S.investigating,
        "investigating_at",
        "investigating",
    ),
    "resolve": Move(
        frozenset({S.acknowledged, S.investigating}),
        S.resolved,
        "resolved_at",
        "resolved",
    ),
    "close": Move(frozenset({S.resolved}), S.closed, "closed_at", "closed"),
    "reopen": Move(
        frozenset({S.resolved, S.closed}),
        S.investigating,
        "investigating_at",
        "reopened",
    ),
}
# update and propose need a ticket someone has acknowledged and not yet resolved
WORKED = frozenset({S.acknowledged, S.investigating})
BREACH_BATCH = 500
ACK_BREACH_NOTE = "超过确认时限仍未确认"
RESOLVE_BREACH_NOTE = "超过解决时限仍未解决"


def note_breaches(session: Session, ticket: Ticket, *, now: datetime) -> bool:
    """Set the breach flags the ticket has earned by ``now``; True if any is new."""
    flagged = False
    if (
        not ticket.ack_breached
        and ticket.status == S.received
        and ticket.ack_due_at <= now
    ):
        ticket.ack_breached = True
        add_event(session, ticket, kind="breached", at=now, note=ACK_BREACH_NOTE)
        flagged = True
    if (
        not ticket.resolve_breached
        and ticket.status in OPEN_TICKET_STATUSES
        and ticket.resolve_due_at <= now
    ):
        ticket.resolve_breached = True
        add_event(session, ticket, kind="breached", at=now, note=RESOLVE_BREACH_NOTE)
        flagged = True
    return flagged


def _transition(
    session: Session,
    ticket: Ticket,
    verb: str,
    *,
    actor: Agent,
    note: str | None,
    now: datetime | None,
) -> Ticket:
    allowed, target, stamp, kind = TRANSITIONS[verb]
    if ticket.status not in allowed:
        raise Conflict(
            f"Cannot {verb} a ticket that is {ticket.status.value}",
            code="invalid_transition",
            status=ticket.status.value,
            status_label=STATUS_LABELS[ticket.status],
        )
    now = now or utcnow()
    # a late verb records the breach the flagging job may not have seen yet
    note_breaches(session, ticket, now=now)
    previous = ticket.status
    ticket.status = target
    setattr(ticket, stamp, now)
    ticket.updated_at = now
    add_event(
        session,
        ticket,
        kind=kind,
        at=now,
        actor=actor,
        note=note,
        customer_visible=True,
        from_status=previous,
        to_status=target,
    )
    session.flush()
    return ticket


def acknowledge(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Confirm receipt; the acknowledging agent owns an unassigned ticket."""
    if ticket.assignee_id is None and ticket.status == S.received:
        ticket.assignee_id = actor.id
    _transition(session, ticket, "acknowledge", actor=actor, note=note, now=now)
    return _notify(session, ticket, kind="acknowledged", note=note)


def _notify(session: Session, ticket: Ticket, *, kind: str, note: str | None) -> Ticket:
    notices.add(session, ticket, kind=kind, at=ticket.updated_at, note=note)
    session.flush()
    delivery.kick_after_commit(session)
    return ticket


def _ensure_worked(ticket: Ticket, verb: str) -> None:
    if ticket.status not in WORKED:
        raise Conflict(
            f"Cannot {verb} a ticket that is {ticket.status.value}",
            code="invalid_transition",
            status=ticket.status.value,
            status_label=STATUS_LABELS[ticket.status],
        )


def _visible_step(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    stamp: str,
    actor: Agent,
    text: str,
    now: datetime | None,
) -> Ticket:
    now = now or utcnow()
    note_breaches(session, ticket, now=now)
    setattr(ticket, stamp, now)
    ticket.updated_at = now
    add_event(
        session,
        ticket,
        kind=kind,
        at=now,
        actor=actor,
        note=text,
        customer_visible=True,
    )
    return _notify(session, ticket, kind=kind, note=text)


def update(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    text: str,
    now: datetime | None = None,
) -> Ticket:
    """Tell the customer how the work is going (no status change)."""
    _ensure_worked(ticket, "update")
    return _visible_step(
        session,
        ticket,
        kind="update",
        stamp="customer_updated_at",
        actor=actor,
        text=text,
        now=now,
    )


def request_info(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    text: str,
    now: datetime | None = None,
) -> Ticket:
    """Ask the customer for information (no status change; the SLA keeps running)."""
    _ensure_worked(ticket, "request information on")
    return _visible_step(
        session,
        ticket,
        kind="info_requested",
        stamp="info_requested_at",
        actor=actor,
        text=text,
        now=now,
    )


def propose(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    proposal: str,
    now: datetime | None = None,
) -> Ticket:
    """Put a resolution to the customer before resolving (no status change)."""
    _ensure_worked(ticket, "propose")
    ticket.proposal = proposal
    return _visible_step(
        session,
        ticket,
        kind="proposed",
        stamp="proposed_at",
        actor=actor,
        text=proposal,
        now=now,
    )


def investigate(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Start the investigation of an acknowledged ticket."""
    return _transition(session, ticket, "investigate", actor=actor, note=note, now=now)


def resolve(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    outcome: str,
    note: str | None = None,
    remedy: TicketRemedy | None = None,
    refund_fen: int | None = None,
    remedy_reason: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolve with the outcome the customer is told (the event shows it too) and
    the remedy: a refund of ``refund_fen``, a correction, an apology, or rejected
    with ``remedy_reason``."""
    if remedy == TicketRemedy.refund and not (refund_fen and refund_fen > 0):
        raise Unprocessable("A refund needs its amount in fen", code="refund_amount")
    if remedy == TicketRemedy.rejected and not (remedy_reason or "").strip():
        raise Unprocessable("A rejection needs its reason", code="reject_reason")
    _transition(session, ticket, "resolve", actor=actor, note=note or outcome, now=now)
    ticket.outcome = outcome
    ticket.remedy = remedy
    ticket.refund_fen = refund_fen if remedy == TicketRemedy.refund else None
    ticket.remedy_reason = remedy_reason
    return _notify(session, ticket, kind="resolved", note=outcome)


def close(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close a resolved ticket."""
    return _transition(session, ticket, "close", actor=actor, note=note, now=now)


def reopen(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    reason: str,
    now: datetime | None = None,
) -> Ticket:
    """Take a resolved or closed ticket back to investigation."""
    _transition(session, ticket, "reopen", actor=actor, note=reason, now=now)
    # the old outcome stays in the log; the ticket no longer has one
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.outcome = None
    ticket.remedy = None
    ticket.refund_fen = None
    ticket.remedy_reason = None
    session.flush()
    return ticket


def add_note(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    text: str,
    customer_visible: bool = False,
    now: datetime | None = None,
) -> Ticket:
    """Add a note to the log, internal unless ``customer_visible``."""
    now = now or utcnow()
    add_event(
        session,
        ticket,
        kind="note",
        at=now,
        actor=actor,
        note=text,
        customer_visible=customer_visible,
    )
    ticket.updated_at = now
    session.flush()
    return ticket


def assign(
    session: Session,
    *,
    ticket: Ticket,
    actor: Agent,
    agent_id: int | None = None,
    team_id: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Hand the ticket to an agent (and their team) and/or to a team."""
    if agent_id is None and team_id is None:
        raise Unprocessable("Give an agent or a team", code="nothing_to_assign")
    if ticket.status == S.closed:
        raise Conflict("A closed ticket cannot be assigned", code="invalid_transition")
    assignee = session.get(Agent, agent_id) if agent_id is not None else None
    if agent_id is not None and (
        assignee is None or assignee.status != AgentStatus.active
    ):
        raise Unprocessable("No active agent with that id", code="agent_not_found")
    if team_id is not None and session.get(Team, team_id) is None:
        raise Unprocessable("No team with that id", code="team_not_found")
    if assignee is not None:
        ticket.assignee_id = assignee.id
        # the team follows the agent unless one is named, so the desk sees it too
        team_id = team_id if team_id is not None else assignee.team_id
    if team_id is not None:
        ticket.team_id = team_id
    now = now or utcnow()
    _log_assigned(session, ticket, actor=actor, now=now, note=note)
    session.flush()
    return ticket


def _log_assigned(
    session: Session, ticket: Ticket, *, actor: Agent, now: datetime, note: str | None
) -> None:
    """The "assigned" event of the ticket's current owner (queue.py parses it)."""
    ticket.updated_at = now
    detail = f"agent={ticket.assignee_id} team={ticket.team_id}"
    add_event(
        session,
        ticket,
        kind="assigned",
        at=now,
        actor=actor,
        note=f"{detail}；{note}" if note else detail,
    )


DEPARTED_NOTE = "处理人{name}已离职，工单退回团队队列"


def release_departed(
    session: Session, *, leaver: Agent, actor: Agent, now: datetime
) -> list[Ticket]:
    """Every unclosed ticket of a departed agent back to its team's queue, logged."""
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == leaver.id, Ticket.status != S.closed)
            .order_by(Ticket.id)
        )
    )
    for ticket in tickets:
        ticket.assignee_id = None
        ticket.team_id = ticket.team_id or leaver.team_id
        _log_assigned(
            session,
            ticket,
            actor=actor,
            now=now,
            note=DEPARTED_NOTE.format(name=leaver.name),
        )
    session.flush()
    return tickets


def flag_breaches(session: Session, *, now: datetime) -> list[Ticket]:
    """Flag every ticket past a deadline once, with a "breached" event; the new ones."""
    due = session.scalars(
        select(Ticket)
        .where(
            or_(
                and_(Ticket.ack_breached.is_(False), sla.ack_overdue(now)),
                and_(Ticket.resolve_breached.is_(False), sla.resolve_overdue(now)),
            )
        )
        .order_by(Ticket.id)
        .limit(BREACH_BATCH)
        # a ticket an agent is changing right now is skipped: its verb notes the
        # breach itself, and a second CRM worker takes the other rows
        .with_for_update(skip_locked=True)
    ).all()
    flagged = [t for t in due if note_breaches(session, t, now=now)]
    session.flush()
    return flagged


def _count(clause: Any) -> Any:
    return func.sum(case((clause, 1), else_=0)).cast(Integer)


def breach_summary(
    session: Session, *, now: datetime, include_closed: bool = False
) -> dict[str, Any]:
    """Breached tickets (flagged or overdue now), counted by team and by category."""
    ack = or_(Ticket.ack_breached.is_(True), sla.ack_overdue(now))
    res = or_(Ticket.resolve_breached.is_(True), sla.resolve_overdue(now))
    filters = [or_(ack, res)]
    if not include_closed:
        filters.append(Ticket.status.in_(OPEN_TICKET_STATUSES))
    counts = (_count(ack), _count(res), func.count(Ticket.id))
    by_team = session.execute(
        select(Ticket.team_id, Team.name, *counts)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .where(*filters)
        .group_by(Ticket.team_id, Team.name)
        .order_by(func.count(Ticket.id).desc(), Ticket.team_id)
    ).all()
    by_category = session.execute(
        select(Ticket.category, *counts)
        .where(*filters)
        .group_by(Ticket.category)
        .order_by(func.count(Ticket.id).desc(), Ticket.category)
    ).all()
    teams = [
        _bucket(str(tid) if tid else None, name or "未分配", rest)
        for tid, name, *rest in by_team
    ]
    categories = [
        _bucket(cat, CATEGORY_LABELS[TicketCategory(cat)], rest)
        for cat, *rest in by_category
    ]
    return {
        "as_of": now,
        "total": sum(b["tickets"] for b in teams),
        "ack_breached": sum(b["ack_breached"] for b in teams),
        "resolve_breached": sum(b["resolve_breached"] for b in teams),
        "by_team": teams,
        "by_category": categories,
    }


def _bucket(key: str | None, label: str, counts: Sequence[Any]) -> dict[str, Any]:
    ack, res, total = (int(c or 0) for c in counts)
    return {
        "key": key,
        "label": label,
        "ack_breached": ack,
        "resolve_breached": res,
        "tickets": total,
    }
