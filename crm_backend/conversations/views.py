"""Conversation and message views: the named agents behind ids, loaded in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.conversations.schemas import AgentRef, ConversationRead, MessageRead
from crm_backend.conversations.service import open_escalation_id
from crm_backend.core.masking import mask_name
from crm_backend.models import Agent, Conversation, Customer, Message


def agent_ref(session: Session, agent_id: int | None) -> AgentRef | None:
    """The named agent behind an id, for views."""
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    return AgentRef.model_validate(agent) if agent is not None else None


def agent_refs(
    session: Session, agent_ids: Iterable[int | None]
) -> dict[int, AgentRef]:
    """The named agents behind several ids, in one query."""
    ids = {i for i in agent_ids if i is not None}
    if not ids:
        return {}
    agents = session.scalars(select(Agent).where(Agent.id.in_(ids)))
    return {agent.id: AgentRef.model_validate(agent) for agent in agents}


def message_reads(session: Session, messages: Sequence[Message]) -> list[MessageRead]:
    """Transcript messages, each agent message with its agent's name and employee
    number (the agents of the whole page in one query)."""
    agents = agent_refs(session, (m.agent_id for m in messages))
    return [
        MessageRead.model_validate(m).model_copy(
            update={"agent": agents.get(m.agent_id) if m.agent_id else None}
        )
        for m in messages
    ]


def message_read(session: Session, message: Message) -> MessageRead:
    """One message with its agent (see :func:`message_reads`)."""
    return message_reads(session, [message])[0]


def to_read(
    session: Session, conversation: Conversation, *, mask: bool = True
) -> ConversationRead:
    """The conversation's view; the bot gets the customer's name masked."""
    customer = (
        session.get(Customer, conversation.customer_id)
        if conversation.customer_id is not None
        else None
    )
    name = customer.name if customer is not None else None
    return ConversationRead(
        id=conversation.id,
        channel=conversation.channel,
        external_id=conversation.external_id,
        status=conversation.status,
        verification_level=conversation.verification_level,
        verified_at=conversation.verified_at,
        customer_id=conversation.customer_id,
        customer_name=mask_name(name) if mask else name,
        assigned_agent=agent_ref(session, conversation.assigned_agent_id),
        open_escalation_id=open_escalation_id(session, conversation_id=conversation.id),
        started_at=conversation.started_at,
        last_message_at=conversation.last_message_at,
        last_customer_message_at=conversation.last_customer_message_at,
        closed_at=conversation.closed_at,
    )
