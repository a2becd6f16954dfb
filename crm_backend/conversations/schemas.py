"""Conversation and message views for the gateway (service API) and the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.models.enums import (
    Channel,
    ConversationStatus,
    Presence,
    Sender,
    VerificationLevel,
)


class AgentRef(BaseModel):
    """The named person holding (or targeted by) a conversation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    employee_no: str
    presence: Presence


class CustomerMessageCreate(BaseModel):
    """One customer message as the gateway received it from a channel."""

    channel: Channel
    external_id: str = Field(min_length=1, max_length=128)
    # Length rules are checked by the service so the 422 names them clearly.
    text: str
    external_msg_id: str | None = Field(default=None, max_length=64)
    customer_id: int | None = None
    sentiment: float | None = Field(default=None, ge=-1, le=1)
    intent: str | None = Field(default=None, max_length=64)
    intent_confidence: float | None = Field(default=None, ge=0, le=1)
    metadata: dict[str, Any] | None = None


class ConversationOpen(BaseModel):
    """A channel user whose open conversation the bot needs (get or open)."""

    channel: Channel
    external_id: str = Field(min_length=1, max_length=128)


class CustomerMessageResult(BaseModel):
    """What the gateway needs to route the message: who owns the conversation."""

    conversation_id: int
    status: ConversationStatus
    verification_level: VerificationLevel
    customer_id: int | None
    message_id: int
    duplicate: bool
    assigned_agent: AgentRef | None


class MessageCreate(BaseModel):
    """A bot reply or a system notice to record in the transcript."""

    sender: Literal["bot", "system"]
    text: str
    payload: dict[str, Any] | None = None


class MessageRead(BaseModel):
    """One message of the transcript; ``text`` is stored exactly as sent."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    sender: Sender
    agent_id: int | None
    agent: AgentRef | None = Field(
        None, description="the agent who wrote it (name and employee number)"
    )
    text: str
    sentiment: float | None
    intent: str | None
    intent_confidence: float | None = None
    external_msg_id: str | None
    private: bool
    payload: dict[str, Any] | None
    created_at: datetime


class MessageList(BaseModel):
    """A page of the transcript, oldest first; continue with ``after_id``."""

    items: list[MessageRead]
    next_after_id: int | None


class ConversationRead(BaseModel):
    """A conversation's state: owner, customer, verification."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: Channel
    external_id: str
    status: ConversationStatus
    verification_level: VerificationLevel
    verified_at: datetime | None
    customer_id: int | None
    # masked for the bot; the console reads the whole name from the customer view
    customer_name: str | None
    assigned_agent: AgentRef | None
    open_escalation_id: int | None
    started_at: datetime
    last_message_at: datetime
    last_customer_message_at: datetime | None
    closed_at: datetime | None


class ConversationSummary(BaseModel):
    """One conversation in a customer's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: Channel
    status: ConversationStatus
    verification_level: VerificationLevel
    assigned_agent_id: int | None
    started_at: datetime
    last_message_at: datetime
    closed_at: datetime | None
    message_count: int


class ConversationList(BaseModel):
    """A customer's conversations across channels, newest first."""

    items: list[ConversationSummary]
    total: int


class UnderstandingUpdate(BaseModel):
    """What Rasa understood of a customer's message (read from the tracker)."""

    intent: str | None = Field(default=None, max_length=64)
    intent_confidence: float | None = Field(default=None, ge=0, le=1)
    sentiment: float | None = Field(default=None, ge=-1, le=1)


class AgentMessageCreate(BaseModel):
    """An agent's reply or private note; kept exactly as typed (rendered as text)."""

    text: str


class CannedReplyRead(BaseModel):
    """A canned reply with its variables filled for the conversation's customer."""

    id: int
    team_id: int | None
    title: str
    shortcut: str
    template: str
    text: str


class CannedReplyList(BaseModel):
    """Canned replies matching the search, shortcut matches first."""

    items: list[CannedReplyRead]
