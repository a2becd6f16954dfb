"""Conversation endpoints: the gateway's per-message call and the console's reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.console.dispatch import NotifyDep
from crm_backend.conversations import chat, service, understanding, views
from crm_backend.conversations.schemas import (
    AgentMessageCreate,
    CannedReplyList,
    ConversationList,
    ConversationOpen,
    ConversationRead,
    ConversationSummary,
    CustomerMessageCreate,
    CustomerMessageResult,
    MessageCreate,
    MessageList,
    MessageRead,
    UnderstandingUpdate,
)
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.core.errors import NotFound
from crm_backend.core.outbox import conversation_hint, pending
from crm_backend.escalations import flows as escalation_flows
from crm_backend.models.enums import Channel, ConversationStatus, Sender

service_router = APIRouter(tags=["conversations"])
agent_router = APIRouter(tags=["conversations"])

HUMAN_STATUSES = (ConversationStatus.queued, ConversationStatus.agent)
AfterId = Annotated[int | None, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=service.PAGE_MAX)]


def _message_list(messages: list[MessageRead]) -> MessageList:
    return MessageList(
        items=messages, next_after_id=messages[-1].id if messages else None
    )


@service_router.post("/conversations/messages", response_model=CustomerMessageResult)
def record_customer_message(
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
    message_in: CustomerMessageCreate,
) -> CustomerMessageResult:
    """Record a customer message (once per ``external_msg_id``); answer who owns it.

    While the conversation is ``queued`` or ``agent`` the console is told (watchers
    and the holder get a ``conversation`` hint); the gateway sends nothing to Rasa.
    """
    recorded = service.record_customer_message(
        session, message_in=message_in, settings=settings
    )
    conversation = recorded.conversation
    if not recorded.duplicate and conversation.status in HUMAN_STATUSES:
        pending(session).hint(
            conversation_hint(
                conversation.id, agent_ids=[conversation.assigned_agent_id]
            )
        )
    notify.after_commit(session)
    return CustomerMessageResult(
        conversation_id=conversation.id,
        status=conversation.status,
        verification_level=conversation.verification_level,
        customer_id=conversation.customer_id,
        message_id=recorded.message.id,
        duplicate=recorded.duplicate,
        assigned_agent=views.agent_ref(session, conversation.assigned_agent_id),
    )


@service_router.get(
    "/conversations",
    response_model=ConversationRead,
    responses={404: {"description": "The channel user has no open conversation"}},
)
def find_conversation(
    session: SessionDep,
    channel: Channel,
    external_id: Annotated[str, Query(min_length=1, max_length=128)],
) -> ConversationRead:
    """The open conversation of a channel user, without opening one (404 when there
    is none): the gateway's history of a page that may never have said anything."""
    conversation = service.find_open(session, channel=channel, external_id=external_id)
    if conversation is None:
        raise NotFound("No open conversation", code="no_open_conversation")
    return views.to_read(session, conversation)


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
    return views.to_read(session, conversation)


@service_router.get("/conversations/{conversation_id}", response_model=ConversationRead)
def get_conversation(session: SessionDep, conversation_id: int) -> ConversationRead:
    """Status, customer (masked name), verification and the agent holding it."""
    conversation = service.get(session, conversation_id=conversation_id)
    return views.to_read(session, conversation)


@service_router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
)
def record_message(
    session: SessionDep,
    notify: NotifyDep,
    conversation_id: int,
    message_in: MessageCreate,
) -> MessageRead:
    """Record a bot reply or a system notice."""
    message = service.record_message(
        session,
        conversation_id=conversation_id,
        sender=Sender(message_in.sender),
        text=message_in.text,
        payload=message_in.payload,
    )
    pending(session).hint(conversation_hint(conversation_id))
    notify.after_commit(session)
    return views.message_read(session, message)


@service_router.post(
    "/conversations/{conversation_id}/messages/{message_id}/understanding",
    response_model=MessageRead,
)
def record_understanding(
    session: SessionDep,
    settings: SettingsDep,
    conversation_id: int,
    message_id: int,
    understanding_in: UnderstandingUpdate,
) -> MessageRead:
    """Store what Rasa understood of a customer message (intent, confidence,
    sentiment); a strongly negative sentiment records the churn signal."""
    message = understanding.record_understanding(
        session,
        conversation_id=conversation_id,
        message_id=message_id,
        intent=understanding_in.intent,
        intent_confidence=understanding_in.intent_confidence,
        sentiment=understanding_in.sentiment,
        settings=settings,
    )
    return views.message_read(session, message)


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
    return _message_list(views.message_reads(session, messages))


@service_router.post(
    "/conversations/{conversation_id}/close", response_model=ConversationRead
)
def close_conversation(
    session: SessionDep, notify: NotifyDep, conversation_id: int
) -> ConversationRead:
    """Close the conversation and any escalation still open for it."""
    conversation = escalation_flows.close_conversation(
        session, conversation_id=conversation_id
    )
    notify.after_commit(session)
    return views.to_read(session, conversation)


@agent_router.get("/conversations/{conversation_id}", response_model=ConversationRead)
def agent_get_conversation(
    session: SessionDep, agent: CurrentAgent, conversation_id: int
) -> ConversationRead:
    """A conversation the agent may see (their own, their customer's, their team's)."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    return views.to_read(session, conversation, mask=False)


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
    return _message_list(views.message_reads(session, messages))


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


@agent_router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
)
def agent_send(
    session: SessionDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    conversation_id: int,
    message_in: AgentMessageCreate,
) -> MessageRead:
    """Write to the customer (only the agent holding the conversation)."""
    message = chat.send(
        session, conversation_id=conversation_id, agent=agent, text=message_in.text
    )
    notify.after_commit(session)
    return views.message_read(session, message)


@agent_router.post(
    "/conversations/{conversation_id}/notes",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
)
def agent_note(
    session: SessionDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    conversation_id: int,
    note_in: AgentMessageCreate,
) -> MessageRead:
    """Add a private note: colleagues see it, the customer never does."""
    message = chat.add_note(
        session, conversation_id=conversation_id, agent=agent, text=note_in.text
    )
    notify.after_commit(session)
    return views.message_read(session, message)


@agent_router.get(
    "/conversations/{conversation_id}/canned-replies", response_model=CannedReplyList
)
def agent_canned_replies(
    session: SessionDep,
    agent: CurrentAgent,
    conversation_id: int,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> CannedReplyList:
    """Canned replies (search ``q``) with the customer's and agent's names filled."""
    return CannedReplyList(
        items=chat.canned_replies(
            session, conversation_id=conversation_id, agent=agent, q=q
        )
    )
