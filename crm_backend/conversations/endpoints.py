"""Conversation endpoints: the gateway's per-message call and the console's reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.conversations import service
from crm_backend.conversations.schemas import (
    ConversationList,
    ConversationOpen,
    ConversationRead,
    ConversationSummary,
    CustomerMessageCreate,
    CustomerMessageResult,
    MessageCreate,
    MessageList,
    MessageRead,
)
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.escalations import flows as escalation_flows
from crm_backend.models.enums import Sender

service_router = APIRouter(tags=["conversations"])
agent_router = APIRouter(tags=["conversations"])

AfterId = Annotated[int | None, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=service.PAGE_MAX)]


def _message_list(messages: list[MessageRead]) -> MessageList:
    return MessageList(
        items=messages, next_after_id=messages[-1].id if messages else None
    )


@service_router.post("/conversations/messages", response_model=CustomerMessageResult)
def record_customer_message(
    session: SessionDep, settings: SettingsDep, message_in: CustomerMessageCreate
) -> CustomerMessageResult:
    """Record a customer message (once per ``external_msg_id``); answer who owns it."""
    recorded = service.record_customer_message(
        session, message_in=message_in, settings=settings
    )
    conversation = recorded.conversation
    return CustomerMessageResult(
        conversation_id=conversation.id,
        status=conversation.status,
        verification_level=conversation.verification_level,
        customer_id=conversation.customer_id,
        message_id=recorded.message.id,
        duplicate=recorded.duplicate,
        assigned_agent=service.agent_ref(session, conversation.assigned_agent_id),
    )


@service_router.post("/conversations", response_model=ConversationRead)
def open_conversation(
    session: SessionDep, conversation_in: ConversationOpen
) -> ConversationRead:
    """The open conversation of a channel user, opened (bot-owned) if there is none.

    For the bot's actions when the gateway's metadata did not name the
    conversation (Rasa's own REST channel: ``external_id`` = the sender id).
    """
    conversation = service.open_or_reuse(
        session,
        channel=conversation_in.channel,
        external_id=conversation_in.external_id,
    )
    return service.to_read(session, conversation)


@service_router.get("/conversations/{conversation_id}", response_model=ConversationRead)
def get_conversation(session: SessionDep, conversation_id: int) -> ConversationRead:
    """Status, customer (masked name), verification and the agent holding it."""
    conversation = service.get(session, conversation_id=conversation_id)
    return service.to_read(session, conversation)


@service_router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
)
def record_message(
    session: SessionDep, conversation_id: int, message_in: MessageCreate
) -> MessageRead:
    """Record a bot reply or a system notice."""
    message = service.record_message(
        session,
        conversation_id=conversation_id,
        sender=Sender(message_in.sender),
        text=message_in.text,
        payload=message_in.payload,
    )
    return MessageRead.model_validate(message)


@service_router.get(
    "/conversations/{conversation_id}/messages", response_model=MessageList
)
def list_messages(
    session: SessionDep,
    conversation_id: int,
    after_id: AfterId = None,
    limit: Limit = 50,
) -> MessageList:
    """The transcript, oldest first, without agents' private notes."""
    messages = service.list_messages(
        session, conversation_id=conversation_id, after_id=after_id, limit=limit
    )
    return _message_list([MessageRead.model_validate(m) for m in messages])


@service_router.post(
    "/conversations/{conversation_id}/close", response_model=ConversationRead
)
def close_conversation(session: SessionDep, conversation_id: int) -> ConversationRead:
    """Close the conversation and any escalation still open for it."""
    conversation = escalation_flows.close_conversation(
        session, conversation_id=conversation_id
    )
    return service.to_read(session, conversation)


@agent_router.get("/conversations/{conversation_id}", response_model=ConversationRead)
def agent_get_conversation(
    session: SessionDep, agent: CurrentAgent, conversation_id: int
) -> ConversationRead:
    """A conversation the agent may see (their own, their customer's, their team's)."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    return service.to_read(session, conversation, mask=False)


@agent_router.get(
    "/conversations/{conversation_id}/messages", response_model=MessageList
)
def agent_list_messages(
    session: SessionDep,
    agent: CurrentAgent,
    conversation_id: int,
    after_id: AfterId = None,
    limit: Limit = 50,
) -> MessageList:
    """The transcript with private notes, for an agent who may see it."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    messages = service.list_messages(
        session,
        conversation_id=conversation_id,
        after_id=after_id,
        limit=limit,
        include_private=True,
    )
    return _message_list([MessageRead.model_validate(m) for m in messages])


@agent_router.get(
    "/customers/{customer_id}/conversations", response_model=ConversationList
)
def agent_customer_conversations(
    session: SessionDep, agent: CurrentAgent, customer_id: int, limit: Limit = 50
) -> ConversationList:
    """A customer's conversation history across channels, newest first."""
    ensure_can_access_customer(session, agent, customer_id)
    rows, total = service.list_for_customer(
        session, customer_id=customer_id, limit=limit
    )
    items = [
        ConversationSummary(
            id=c.id,
            channel=c.channel,
            status=c.status,
            verification_level=c.verification_level,
            assigned_agent_id=c.assigned_agent_id,
            started_at=c.started_at,
            last_message_at=c.last_message_at,
            closed_at=c.closed_at,
            message_count=count,
        )
        for c, count in rows
    ]
    return ConversationList(items=items, total=total)
