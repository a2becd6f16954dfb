"""Escalation views: the bot's request and answer, the console's queue and brief."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_backend.claims.schemas import ClaimSummary
from crm_backend.conversations.schemas import AgentRef, MessageRead
from crm_backend.customers.schemas import (
    CustomerAgentRead,
    CustomerSummary,
    ScoreRead,
)
from crm_backend.models.enums import (
    EscalationOutcome,
    EscalationStatus,
    EscalationTrigger,
    Sender,
    VerificationLevel,
)
from crm_backend.policies.schemas import PolicyRead
from crm_backend.premiums.schemas import BillsOverview
from crm_backend.tickets.schemas import TicketSummary

Topic = Literal["general", "vip", "retention", "complaints"]
OUTCOME_LABELS: dict[str, str] = {
    EscalationOutcome.resolved: "问题已解决",
    EscalationOutcome.follow_up: "需后续跟进",
    EscalationOutcome.unresolved: "未能解决",
    EscalationOutcome.callback_done: "已回电",
    EscalationOutcome.no_response: "客户无应答",
    "closed_by_agent": "坐席结束会话",
    "conversation_closed": "会话已关闭",
}


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
    offered_agent: AgentRef | None = None
    assigned_agent: AgentRef | None = None
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
    target_agent_id: int | None = None
    target_agent_name: str | None
    target_team_id: int | None = None
    target_team_name: str | None
    offered_agent_id: int | None = None
    offered_agent_name: str | None = None
    offer_expires_at: datetime | None = None
    assigned_agent_id: int | None = None
    assigned_agent_name: str | None = None
    queued_at: datetime
    waiting_minutes: int
    queue_score: int = Field(0, description="priority + minutes waited (queue order)")
    callback: bool
    callback_due_at: datetime | None
    last_message_preview: str | None = Field(
        None,
        description="the conversation's latest message (no private notes) on one "
        "line, cut to 60 characters",
    )
    last_message_sender: Sender | None = None
    last_message_at: datetime | None = None


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


class CustomerPicture(BaseModel):
    """The customer at a glance, for an agent who may see them (numbers masked)."""

    summary: CustomerSummary
    score: ScoreRead
    servicing_agent: CustomerAgentRead
    policies: list[PolicyRead]
    bills: BillsOverview
    claims: list[ClaimSummary]
    complaints: list[TicketSummary]


class EscalationBrief(BaseModel):
    """The hand-off brief: why, what the bot collected, the customer's picture
    and the latest turns."""

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
    offered_agent: AgentRef | None = None
    offer_expires_at: datetime | None = None
    assigned_agent: AgentRef | None
    queued_at: datetime
    accepted_at: datetime | None = None
    transferred_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    outcome_label: str | None = None
    resolution_note: str | None = None
    waiting_minutes: int
    callback: bool
    callback_due_at: datetime | None
    events: list[EscalationEventRead]
    customer: CustomerPicture | None = Field(
        None, description="None when the customer is unknown (not verified)"
    )
    transcript: list[MessageRead] = Field(
        default_factory=list, description="the last 20 messages, oldest first"
    )


class TransferCreate(BaseModel):
    """Hand the conversation to another agent or team; the note stays private."""

    agent_id: int | None = None
    team_id: int | None = None
    note: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_target(self) -> TransferCreate:
        if (self.agent_id is None) == (self.team_id is None):
            raise ValueError("give either agent_id or team_id")
        return self


class ResolveCreate(BaseModel):
    """How the agent's part ended; the bot asks the customer for a score next."""

    outcome: EscalationOutcome
    note: str | None = Field(None, max_length=1000)


class CloseCreate(BaseModel):
    """End the conversation without handing it back to the bot."""

    outcome: EscalationOutcome | None = None
    note: str | None = Field(None, max_length=1000)
