"""Complaint SLAs: which policy row applies and the deadlines it gives."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.models import SlaPolicy, Ticket
from crm_backend.models.enums import (
    OPEN_TICKET_STATUSES,
    Severity,
    TicketCategory,
    TicketStatus,
)


def _specificity(row: SlaPolicy) -> int:
    # lower wins: exact pair, category only, severity only, catch-all row
    if row.category is not None and row.severity is not None:
        return 0
    if row.category is not None:
        return 1
    if row.severity is not None:
        return 2
    return 3


def find_policy(
    session: Session, *, category: TicketCategory, severity: Severity
) -> SlaPolicy | None:
    """The most specific SLA row for a category and severity, if any."""
    rows = session.scalars(
        select(SlaPolicy).where(
            or_(
                and_(SlaPolicy.category == category, SlaPolicy.severity == severity),
                and_(SlaPolicy.category == category, SlaPolicy.severity.is_(None)),
                and_(SlaPolicy.category.is_(None), SlaPolicy.severity == severity),
                and_(SlaPolicy.category.is_(None), SlaPolicy.severity.is_(None)),
            )
        )
    ).all()
    return min(rows, key=_specificity, default=None)


def deadlines(
    created_at: datetime, *, policy: SlaPolicy | None, settings: Settings
) -> tuple[datetime, datetime]:
    """``(ack_due_at, resolve_due_at)`` from the policy row, else the settings."""
    if policy is not None:
        ack = timedelta(hours=policy.ack_hours)
        resolve = timedelta(hours=policy.resolve_hours)
    else:
        ack = timedelta(hours=settings.ticket_ack_hours)
        resolve = timedelta(days=settings.ticket_resolve_days)
    return created_at + ack, created_at + resolve


def ack_overdue(now: datetime) -> ColumnElement[bool]:
    """Not acknowledged and past the acknowledgement deadline."""
    return and_(Ticket.status == TicketStatus.received, Ticket.ack_due_at <= now)


def resolve_overdue(now: datetime) -> ColumnElement[bool]:
    """Still open and past the resolution deadline."""
    return and_(Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.resolve_due_at <= now)


def breached_clause(now: datetime) -> ColumnElement[bool]:
    """Flagged, or overdue now even if the flagging job has not run yet."""
    return or_(
        Ticket.ack_breached.is_(True),
        Ticket.resolve_breached.is_(True),
        ack_overdue(now),
        resolve_overdue(now),
    )
