"""Conversations, their messages (the transcript of record) and escalations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, str_enum, utcnow
from crm_backend.models.enums import (
    Channel,
    ConversationStatus,
    EscalationStatus,
    EscalationTrigger,
    Sender,
    VerificationLevel,
)


class Conversation(Base):
    """One chat on one channel, owned by the bot, the queue or an agent."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_channel_external", "channel", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.bot, index=True
    )
    verification_level: Mapped[VerificationLevel] = mapped_column(
        str_enum(VerificationLevel), default=VerificationLevel.none
    )
    verified_at: Mapped[datetime | None]
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_customer_message_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Message(Base):
    """One message of a conversation: from the customer, the bot, an agent or system."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_msg_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    sender: Mapped[Sender] = mapped_column(str_enum(Sender))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    sentiment: Mapped[float | None] = mapped_column(Float)
    intent: Mapped[str | None] = mapped_column(String(64))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    external_msg_id: Mapped[str | None] = mapped_column(String(64))
    private: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when the gateway recorded the turn's understanding (intent, sentiment)
    understood_at: Mapped[datetime | None]


DEFAULT_PRIORITY = 50


class Escalation(Base):
    """A hand-off from the bot to people: why, to whom, and how it ended.

    ``queued`` (maybe offered to one agent) → ``active`` (accepted) → ``closed``;
    a transfer puts an active one back to ``queued``. ``rank_at`` is the queue's
    order key (``queued_at`` minus one minute per priority point, see routing).
    """

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    trigger: Mapped[EscalationTrigger] = mapped_column(str_enum(EscalationTrigger))
    reason: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(32), default="general")
    priority: Mapped[int] = mapped_column(default=DEFAULT_PRIORITY)
    priority_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    target_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id"), index=True
    )
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    status: Mapped[EscalationStatus] = mapped_column(
        str_enum(EscalationStatus), default=EscalationStatus.queued, index=True
    )
    offered_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    rank_at: Mapped[datetime] = mapped_column(index=True)
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    assigned_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    transferred_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    csat: Mapped[int | None]
    csat_at: Mapped[datetime | None]


def queue_rank(queued_at: datetime, priority: int) -> datetime:
    """The queue's order key: each priority point counts as a minute already waited."""
    return queued_at - timedelta(minutes=priority)


@event.listens_for(Escalation, "before_insert")
@event.listens_for(Escalation, "before_update")
def _keep_rank(_mapper: Any, _connection: Any, escalation: Escalation) -> None:
    # Kept in step with queued_at and priority however the row was built
    # (factories, flows, an update of the priority).
    if escalation.queued_at is None:
        escalation.queued_at = utcnow()
    if escalation.priority is None:
        escalation.priority = DEFAULT_PRIORITY
    escalation.rank_at = queue_rank(escalation.queued_at, escalation.priority)


class EscalationEvent(Base):
    """One step of an escalation: queued, offered, offer_expired, declined, accepted,
    transferred, requeued, resolved, closed, csat.

    ``actor_id`` is the agent who acted; for ``offered``, ``offer_expired`` and
    ``released`` it is the agent the offer was made to (so the agents who have had
    an offer are read from the log).
    """

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
