"""Escalation views: the bot's request and answer, the console's queue and brief."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.conversations.schemas import AgentRef
from crm_backend.models.enums import (
    EscalationStatus,
    EscalationTrigger,
    VerificationLevel,
)

Topic = Literal["general", "vip", "retention", "complaints"]


class EscalationCreate(BaseModel):
    """The bot asks for a person: why, on which topic, with what it collected."""

    conversation_id: int
    trigger: EscalationTrigger
    reason: str = Field(min_length=1, max_length=500)
    topic: Topic | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    sentiment: float | None = Field(default=None, ge=-1, le=1)


class PriorityReason(BaseModel):
    """One explainable part of the priority."""

    code: str
    label: str
    points: int


class TeamRef(BaseModel):
    """A desk an escalation was routed to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str


class EscalationRead(BaseModel):
    """An escalation as the bot sees it, with what to tell the customer."""

    id: int
    conversation_id: int
    customer_id: int | None
    status: EscalationStatus
    existing: bool = False
    trigger: EscalationTrigger
    reason: str
    topic: str
    priority: int
    priority_reasons: list[PriorityReason]
    target_agent: AgentRef | None
    target_team: TeamRef | None
    queue_position: int | None = Field(
        description="1 = next; queued escalations for the same target ahead, plus one"
    )
    estimated_wait_minutes: int | None = Field(
        description="queue_position × 4 minutes; none for a call-back"
    )
    callback: bool
    callback_due_at: datetime | None
    notice: str = Field(description="What the bot tells the customer (Chinese)")
    queued_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    csat: int | None
    csat_at: datetime | None


class CsatCreate(BaseModel):
    """The customer's satisfaction score after the conversation with a person."""

    score: int = Field(ge=1, le=5)


class EscalationListItem(BaseModel):
    """One row of the console's escalation list."""

    id: int
    conversation_id: int
    status: EscalationStatus
    priority: int
    trigger: EscalationTrigger
    trigger_label: str
    topic: str
    customer_id: int | None
    customer_name: str | None
    target_agent_name: str | None
    target_team_name: str | None
    queued_at: datetime
    waiting_minutes: int
    callback: bool
    callback_due_at: datetime | None


class EscalationList(BaseModel):
    """Escalations, highest priority and longest waiting first."""

    items: list[EscalationListItem]
    total: int


class EscalationEventRead(BaseModel):
    """One step of an escalation's log."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    actor_id: int | None
    note: str | None
    created_at: datetime


class EscalationBrief(BaseModel):
    """The hand-off brief; the console loads the customer's picture separately."""

    id: int
    conversation_id: int
    customer_id: int | None
    status: EscalationStatus
    trigger: EscalationTrigger
    trigger_label: str
    reason: str
    topic: str
    slots: dict[str, Any]
    verification_level: VerificationLevel
    priority: int
    priority_reasons: list[PriorityReason]
    target_agent: AgentRef | None
    target_team: TeamRef | None
    assigned_agent: AgentRef | None
    queued_at: datetime
    waiting_minutes: int
    callback: bool
    callback_due_at: datetime | None
    events: list[EscalationEventRead]
