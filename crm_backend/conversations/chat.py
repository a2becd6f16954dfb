"""The agent's side of a live chat: replies, private notes, system notices, canned
replies. Text is stored exactly as typed (HTML included): the console renders it
as text, the gateway delivers it as text."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.conversations import canned, service
from crm_backend.conversations.schemas import CannedReplyRead
from crm_backend.core.errors import Conflict, Forbidden
from crm_backend.core.gateway import message_event
from crm_backend.core.outbox import conversation_hint, pending
from crm_backend.models import Agent, Conversation, Customer, Message
from crm_backend.models.enums import ConversationStatus, Sender
from crm_backend.wechat import service as wechat


def announce(
    session: Session,
    conversation: Conversation,
    message: Message,
    agent: Agent | None = None,
) -> None:
    """After commit: the message goes to the customer's channel and watchers."""
    box = pending(session)
    box.event(message_event(conversation, message, agent))
    box.hint(
        conversation_hint(conversation.id, agent_ids=[conversation.assigned_agent_id])
    )


def system_notice(session: Session, conversation: Conversation, text: str) -> Message:
    """A notice the CRM writes to the customer (agent joined, transfer, end)."""
    message = service.record_message(
        session, conversation_id=conversation.id, sender=Sender.system, text=text
    )
    announce(session, conversation, message)
    return message


def send(session: Session, *, conversation_id: int, agent: Agent, text: str) -> Message:
    """An agent's reply: only the agent holding the conversation, while they do."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    if conversation.status != ConversationStatus.agent:
        raise Conflict(
            "The conversation is not with an agent; accept it first",
            code="not_with_agent",
        )
    if conversation.assigned_agent_id != agent.id:
        raise Forbidden(
            "Only the agent holding the conversation may write to the customer",
            code="not_holder",
        )
    wechat.ensure_window_open(session, conversation, agent=agent, text=text)
    message = service.record_message(
        session,
        conversation_id=conversation.id,
        sender=Sender.agent,
        text=text,
        agent_id=agent.id,
        max_length=service.TEXT_MAX,
    )
    announce(session, conversation, message, agent)
    return message


def add_note(
    session: Session,
    *,
    conversation_id: int,
    agent: Agent,
    text: str,
    payload: dict[str, object] | None = None,
) -> Message:
    """A private note on the conversation: colleagues see it, the customer never."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    return write_note(session, conversation, agent=agent, text=text, payload=payload)


def write_note(
    session: Session,
    conversation: Conversation,
    *,
    agent: Agent,
    text: str,
    payload: dict[str, object] | None = None,
) -> Message:
    """Record a private note (the caller checked access)."""
    message = service.record_message(
        session,
        conversation_id=conversation.id,
        sender=Sender.agent,
        text=text,
        agent_id=agent.id,
        private=True,
        payload=payload,
        max_length=service.TEXT_MAX,
    )
    pending(session).hint(
        conversation_hint(conversation.id, agent_ids=[conversation.assigned_agent_id])
    )
    return message


def canned_replies(
    session: Session, *, conversation_id: int, agent: Agent, q: str | None
) -> list[CannedReplyRead]:
    """Canned replies for this agent, filled in for the conversation's customer."""
    conversation = service.get(session, conversation_id=conversation_id)
    service.ensure_can_access(session, agent, conversation)
    customer = (
        session.get(Customer, conversation.customer_id)
        if conversation.customer_id is not None
        else None
    )
    values = canned.variables(customer, agent)
    return [
        CannedReplyRead(
            id=reply.id,
            team_id=reply.team_id,
            title=reply.title,
            shortcut=reply.shortcut,
            template=reply.text,
            text=canned.fill(reply.text, values),
        )
        for reply in canned.search(session, agent=agent, q=q)
    ]


def recent(session: Session, *, conversation_id: int, limit: int = 20) -> list[Message]:
    """The last ``limit`` messages (private notes included), oldest first."""
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))
