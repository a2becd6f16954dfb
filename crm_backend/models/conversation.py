"""Conversations, their messages (the transcript of record) and escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
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
    __table_args__ = (Index("ix_conversations_channel_external", "channel", "external_id"),)

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
    """One message of a conversation, from the customer, the bot, an agent or the system."""

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


class Escalation(Base):
    """A hand-off from the bot to people: why, to whom, and how it ended."""

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
    priority: Mapped[int] = mapped_column(default=50)
    priority_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    target_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    status: Mapped[EscalationStatus] = mapped_column(
        str_enum(EscalationStatus), default=EscalationStatus.queued, index=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    csat: Mapped[int | None]
    csat_at: Mapped[datetime | None]


class EscalationEvent(Base):
    """One step of an escalation (queued, offered, accepted, transferred, closed)."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
