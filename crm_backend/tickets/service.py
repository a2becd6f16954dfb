"""Complaint tickets: opening (number, severity, priority, SLA), reads and access."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.agents.access import ensure_can_access_customer, is_supervisor
from crm_backend.analytics import service as analytics
from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.models import (
    Agent,
    Conversation,
    Customer,
    CustomerScore,
    CustomerSignal,
    Policy,
    Team,
    Ticket,
    TicketEvent,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    RiskLevel,
    Severity,
    SignalKind,
    TicketStatus,
    ValueTier,
)
from crm_backend.tickets import sla
from crm_backend.tickets.queue import (
    list_for_agent as list_for_agent,  # callers of service
)
from crm_backend.tickets.schemas import CATEGORY_LABELS, SEVERITY_LABELS, TicketCreate

# ticket numbers follow the insurer's business day in China
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
NUMBER_TRIES = 5
COMPLAINTS_TOPIC = "complaints"
REPEAT_WINDOW = timedelta(days=90)
# words that mean the customer is taking it to a regulator, a court or the press
CRITICAL_WORDS = ("银保监", "监管", "起诉", "媒体", "12378", "法院", "律师", "曝光")
_SEVERITY_RANK = {
    Severity.low: 0,
    Severity.medium: 1,
    Severity.high: 2,
    Severity.critical: 3,
}
SEVERITY_BASE = {
    Severity.low: 20,
    Severity.medium: 40,
    Severity.high: 60,
    Severity.critical: 80,
}
HIGH_VALUE_TIERS = {ValueTier.vip: "VIP客户", ValueTier.gold: "黄金客户"}


def next_ticket_no(session: Session, *, at: datetime) -> str:
    """``T`` + the China business date + the next 4-digit sequence of that day."""
    prefix = "T" + at.astimezone(CHINA_TZ).strftime("%Y%m%d")
    last = session.scalar(
        select(Ticket.ticket_no)
        .where(Ticket.ticket_no.like(f"{prefix}%"))
        # a 5-digit day (over 9,999 tickets) must sort after 9999
        .order_by(func.length(Ticket.ticket_no).desc(), Ticket.ticket_no.desc())
        .limit(1)
    )
    tail = last[len(prefix) :] if last else ""
    seq = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{seq:04d}"


def infer_severity(
    description: str, severity: Severity | None
) -> tuple[Severity, list[str]]:
    """The given severity (default medium), raised to high on regulator/court words."""
    chosen = severity or Severity.medium
    hits = [word for word in CRITICAL_WORDS if word in description]
    if hits and _SEVERITY_RANK[chosen] < _SEVERITY_RANK[Severity.high]:
        reason = f"投诉内容涉及“{'、'.join(hits)}”，严重程度上调为高"
        return Severity.high, [reason]
    return chosen, []


def score_priority(
    session: Session, *, customer_id: int, severity: Severity, now: datetime
) -> tuple[int, list[str]]:
    """Priority 0–100 with its reasons: severity, customer value, repeats, churn."""
    base = SEVERITY_BASE[severity]
    reasons = [f"严重程度{SEVERITY_LABELS[severity]}：基础分{base}"]
    score = base
    customer_score = session.get(CustomerScore, customer_id)
    tier = customer_score.value_tier if customer_score else ValueTier.standard
    risk = customer_score.churn_risk if customer_score else RiskLevel.low
    if tier in HIGH_VALUE_TIERS:
        score += 20
        reasons.append(f"{HIGH_VALUE_TIERS[tier]} +20")
    earlier = (
        session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.customer_id == customer_id,
                Ticket.created_at >= now - REPEAT_WINDOW,
            )
        )
        or 0
    )
    # this is the customer's second complaint in 90 days, or a third and later one
    if earlier >= 2:
        score += 25
        reasons.append(f"90天内第{earlier + 1}次投诉 +25")
    elif earlier == 1:
        score += 15
        reasons.append("90天内重复投诉 +15")
    if risk == RiskLevel.high:
        score += 10
        reasons.append("流失风险高 +10")
    return min(score, 100), reasons


def complaints_team(session: Session) -> Team | None:
    """The first team whose topics include complaints."""
    for team in session.scalars(select(Team).order_by(Team.id)):
        if COMPLAINTS_TOPIC in (team.topics or []):
            return team
    return None


def _related_policy(session: Session, *, customer_id: int, policy_no: str) -> Policy:
    policy = session.scalar(select(Policy).where(Policy.policy_no == policy_no))
    if policy is None or customer_id not in (policy.holder_id, policy.insured_id):
        raise Unprocessable(
            "The policy does not belong to this customer", code="policy_mismatch"
        )
    return policy


def add_event(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    at: datetime,
    actor: Agent | None = None,
    note: str | None = None,
    customer_visible: bool = False,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
) -> TicketEvent:
    """Append one entry to the ticket's log."""
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor.id if actor else None,
        note=note,
        customer_visible=customer_visible,
        created_at=at,
    )
    session.add(event)
    return event


def _insert_numbered(
    session: Session, fields: dict[str, Any], *, at: datetime
) -> Ticket:
    # Two requests may compute the same number: the unique index refuses the second,
    # whose savepoint is rolled back and which tries the next number.
    for _ in range(NUMBER_TRIES):
        ticket = Ticket(ticket_no=next_ticket_no(session, at=at), **fields)
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:
            continue
        return ticket
    raise Conflict("Could not allocate a ticket number; please retry", code="busy")


def create(
    session: Session,
    *,
    ticket_in: TicketCreate,
    settings: Settings,
    now: datetime | None = None,
) -> Ticket:
    """Open a complaint: number, severity, priority, team, SLA deadlines, signal."""
    now = now or utcnow()
    customer_id = ticket_in.customer_id
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    policy = (
        _related_policy(session, customer_id=customer_id, policy_no=ticket_in.policy_no)
        if ticket_in.policy_no
        else None
    )
    if ticket_in.conversation_id is not None and (
        session.get(Conversation, ticket_in.conversation_id) is None
    ):
        raise Unprocessable("Conversation not found", code="conversation_not_found")
    severity, severity_reasons = infer_severity(
        ticket_in.description, ticket_in.severity
    )
    priority, reasons = score_priority(
        session, customer_id=customer_id, severity=severity, now=now
    )
    ack_due, resolve_due = sla.deadlines(
        now,
        policy=sla.find_policy(session, category=ticket_in.category, severity=severity),
        settings=settings,
    )
    team = complaints_team(session)
    ticket = _insert_numbered(
        session,
        {
            "customer_id": customer_id,
            "conversation_id": ticket_in.conversation_id,
            "policy_id": policy.id if policy else None,
            "category": ticket_in.category,
            "severity": severity,
            "priority": priority,
            "priority_reasons": json.dumps(
                severity_reasons + reasons, ensure_ascii=False
            ),
            "description": ticket_in.description,
            "desired_outcome": ticket_in.desired_outcome,
            "channel": ticket_in.channel.value,
            "status": TicketStatus.received,
            "ack_due_at": ack_due,
            "resolve_due_at": resolve_due,
            "team_id": team.id if team else None,
            "created_at": now,
            "updated_at": now,
        },
        at=now,
    )
    add_event(
        session,
        ticket,
        kind="received",
        at=now,
        to_status=TicketStatus.received,
        customer_visible=True,
    )
    session.add(
        CustomerSignal(
            customer_id=customer_id,
            kind=SignalKind.complaint,
            detail=f"{ticket.ticket_no} {CATEGORY_LABELS[ticket.category]}",
            conversation_id=ticket_in.conversation_id,
            created_at=now,
        )
    )
    session.flush()
    analytics.recompute(session, customer_id=customer_id, now=now, settings=settings)
    return ticket


def get(session: Session, *, ticket_id: int, for_update: bool = False) -> Ticket:
    """A ticket by id, or ``NotFound``; ``for_update`` locks the row for a verb."""
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalar(stmt)
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


def get_for_customer(session: Session, *, ticket_no: str, customer_id: int) -> Ticket:
    """The customer's own ticket by number; another customer's is ``NotFound``."""
    ticket = session.scalar(
        select(Ticket).where(
            Ticket.ticket_no == ticket_no.strip().upper(),
            Ticket.customer_id == customer_id,
        )
    )
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


def list_for_customer(session: Session, *, customer_id: int) -> Sequence[Ticket]:
    """The customer's tickets: open ones first, newest first within each group."""
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    is_open = case((Ticket.status.in_(OPEN_TICKET_STATUSES), 0), else_=1)
    return session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(is_open, Ticket.created_at.desc(), Ticket.id.desc())
    ).all()


def events(
    session: Session, *, ticket_id: int, customer_visible_only: bool = False
) -> Sequence[TicketEvent]:
    """The ticket's log in order; optionally only what the customer may see."""
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if customer_visible_only:
        stmt = stmt.where(TicketEvent.customer_visible.is_(True))
    return session.scalars(stmt.order_by(TicketEvent.created_at, TicketEvent.id)).all()


def policy_no_of(session: Session, ticket: Ticket) -> str | None:
    """The related policy's number, if any."""
    if ticket.policy_id is None:
        return None
    return session.scalar(select(Policy.policy_no).where(Policy.id == ticket.policy_id))


def can_access(agent: Agent, ticket: Ticket) -> bool:
    """Supervisors see all; agents their team's tickets and those assigned to them."""
    return (
        is_supervisor(agent)
        or ticket.assignee_id == agent.id
        or (agent.team_id is not None and ticket.team_id == agent.team_id)
    )


def get_for_agent(
    session: Session, *, ticket_id: int, agent: Agent, for_update: bool = False
) -> Ticket:
    """A ticket the agent may work on, else ``NotFound`` / ``Forbidden``."""
    ticket = get(session, ticket_id=ticket_id, for_update=for_update)
    if not can_access(agent, ticket):
        raise Forbidden("This ticket belongs to another team")
    ensure_can_access_customer(session, agent, ticket.customer_id)
    return ticket
