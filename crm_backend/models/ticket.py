"""Complaint tickets, their SLAs and event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, TimestampMixin, str_enum, utcnow
from crm_backend.models.enums import (
    Severity,
    TicketCategory,
    TicketRemedy,
    TicketStatus,
)


class SlaPolicy(Base):
    """Deadlines for a category (and optionally severity); settings give the default."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("category", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[TicketCategory | None] = mapped_column(str_enum(TicketCategory))
    severity: Mapped[Severity | None] = mapped_column(str_enum(Severity))
    ack_hours: Mapped[int]
    resolve_hours: Mapped[int]


class Ticket(TimestampMixin, Base):
    """A complaint with its lifecycle and deadlines."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    category: Mapped[TicketCategory] = mapped_column(str_enum(TicketCategory))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    priority: Mapped[int] = mapped_column(default=50)
    priority_reasons: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    desired_outcome: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), index=True)
    ack_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    investigating_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    ack_breached: Mapped[bool] = mapped_column(default=False)
    resolve_breached: Mapped[bool] = mapped_column(default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    # set once by the breach job: the supervisor the breached ticket was raised to
    escalated_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    escalated_at: Mapped[datetime | None]
    # the named verbs' last times; the proposal and the remedy the customer is told
    customer_updated_at: Mapped[datetime | None]
    info_requested_at: Mapped[datetime | None]
    proposed_at: Mapped[datetime | None]
    proposal: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[TicketRemedy | None] = mapped_column(str_enum(TicketRemedy))
    refund_fen: Mapped[int | None]
    remedy_reason: Mapped[str | None] = mapped_column(Text)


class TicketEvent(Base):
    """One entry in a ticket's log, attributed to an agent or the system."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    to_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str | None] = mapped_column(Text)
    customer_visible: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketNotice(Base):
    """A message owed to the customer about a visible step of their ticket; the
    gateway or the bot delivers it and marks it delivered."""

    __tablename__ = "ticket_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # the channel the ticket came in on; the one it went out on once delivered
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # the delivery job's last try: it tries again no sooner than its interval
    attempted_at: Mapped[datetime | None]
