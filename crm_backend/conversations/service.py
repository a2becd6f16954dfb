"""Conversations and their transcript: open, record, read, close, who may see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.agents.access import ensure_can_access_customer, is_supervisor
from crm_backend.conversations.schemas import CustomerMessageCreate
from crm_backend.conversations.understanding import (
    NEGATIVE_SENTIMENT,
    record_negative_chat,
)
from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.models import (
    Agent,
    Conversation,
    Customer,
    Escalation,
    Message,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    Channel,
    ConversationStatus,
    EscalationStatus,
    Sender,
    VerificationLevel,
)

TEXT_MAX = 2000  # a customer's message (WeChat allows 2048 bytes of text anyway)
BOT_TEXT_MAX = 4000  # bot replies list policies or bills and may run longer
PAGE_MAX = 200


@dataclass(frozen=True)
class RecordedMessage:
    """The outcome of recording a customer message."""

    conversation: Conversation
    message: Message
    duplicate: bool


def check_text(text: str, *, max_length: int = TEXT_MAX) -> str:
    """Refuse empty or over-long text; the text itself is kept exactly as given."""
    if not text.strip():
        raise Unprocessable("Message text must not be empty", code="text_empty")
    if len(text) > max_length:
        raise Unprocessable(
            f"Message text must be at most {max_length} characters",
            code="text_too_long",
            max_length=max_length,
            length=len(text),
        )
    return text


def get(session: Session, *, conversation_id: int) -> Conversation:
    """One conversation, or ``NotFound``."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found")
    return conversation


def find_open(
    session: Session, *, channel: Channel, external_id: str
) -> Conversation | None:
    """The latest conversation of this channel user that is not closed."""
    return session.scalars(
        select(Conversation)
        .where(
            Conversation.channel == channel,
            Conversation.external_id == external_id,
            Conversation.status != ConversationStatus.closed,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    ).first()


def open_or_reuse(
    session: Session,
    *,
    channel: Channel,
    external_id: str,
    customer_id: int | None = None,
) -> Conversation:
    """The open conversation of this channel user, or a new bot-owned one."""
    conversation = find_open(session, channel=channel, external_id=external_id)
    if conversation is None:
        conversation = Conversation(
            channel=channel,
            external_id=external_id,
            status=ConversationStatus.bot,
            verification_level=VerificationLevel.none,
        )
        session.add(conversation)
        session.flush()
    if channel == Channel.wechat:
        _apply_wechat_binding(session, conversation)
    if customer_id is not None:
        _attach_customer(session, conversation, customer_id)
    return conversation


def _apply_wechat_binding(session: Session, conversation: Conversation) -> None:
    # A bound openid was verified before, so the chat starts verified.
    customer_id = session.scalar(
        select(Customer.id).where(Customer.wechat_openid == conversation.external_id)
    )
    if customer_id is None or conversation.customer_id not in (None, customer_id):
        return
    conversation.customer_id = customer_id
    if conversation.verification_level == VerificationLevel.none:
        conversation.verification_level = VerificationLevel.verified
        conversation.verified_at = utcnow()


def _attach_customer(
    session: Session, conversation: Conversation, customer_id: int
) -> None:
    if conversation.customer_id == customer_id:
        return
    if conversation.customer_id is not None:
        raise Conflict(
            "The conversation already belongs to another customer",
            code="customer_mismatch",
        )
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    conversation.customer_id = customer_id


def find_by_external_msg_id(
    session: Session, *, conversation_id: int, external_msg_id: str
) -> Message | None:
    """The message a channel already delivered with this id, if any."""
    return session.scalars(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.external_msg_id == external_msg_id,
        )
    ).first()


def record_customer_message(
    session: Session,
    *,
    message_in: CustomerMessageCreate,
    settings: Settings | None = None,
) -> RecordedMessage:
    """Record one customer message once, however often the channel delivers it."""
    check_text(message_in.text)
    conversation = open_or_reuse(
        session,
        channel=message_in.channel,
        external_id=message_in.external_id,
        customer_id=message_in.customer_id,
    )
    msg_id = message_in.external_msg_id
    if msg_id:
        existing = find_by_external_msg_id(
            session, conversation_id=conversation.id, external_msg_id=msg_id
        )
        if existing is not None:
            return RecordedMessage(conversation, existing, duplicate=True)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        sender=Sender.customer,
        text=message_in.text,
        sentiment=message_in.sentiment,
        intent=message_in.intent,
        intent_confidence=message_in.intent_confidence,
        external_msg_id=msg_id,
        payload={"metadata": message_in.metadata} if message_in.metadata else None,
        created_at=now,
    )
    try:
        # A concurrent retry may insert the same external id between our look-up
        # and this insert; the unique constraint decides, the savepoint keeps the
        # request's transaction usable.
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        if msg_id is None:
            raise
        existing = find_by_external_msg_id(
            session, conversation_id=conversation.id, external_msg_id=msg_id
        )
        if existing is None:
            raise
        return RecordedMessage(conversation, existing, duplicate=True)
    conversation.last_message_at = now
    conversation.last_customer_message_at = now
    if (
        message_in.sentiment is not None
        and message_in.sentiment <= NEGATIVE_SENTIMENT
        and conversation.customer_id is not None
    ):
        record_negative_chat(
            session, conversation=conversation, message=message, settings=settings
        )
    session.flush()
    return RecordedMessage(conversation, message, duplicate=False)


def record_message(
    session: Session,
    *,
    conversation_id: int,
    sender: Sender,
    text: str,
    payload: dict[str, Any] | None = None,
    agent_id: int | None = None,
    private: bool = False,
    max_length: int = BOT_TEXT_MAX,
) -> Message:
    """Record a bot, system or agent message (or an agent's private note) in an
    open conversation."""
    conversation = get(session, conversation_id=conversation_id)
    if conversation.status == ConversationStatus.closed:
        raise Conflict("The conversation is closed", code="conversation_closed")
    check_text(text, max_length=max_length)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        sender=sender,
        agent_id=agent_id,
        text=text,
        payload=payload,
        private=private,
        created_at=now,
    )
    session.add(message)
    if not private:
        conversation.last_message_at = now
    session.flush()
    return message


def list_messages(
    session: Session,
    *,
    conversation_id: int,
    after_id: int | None = None,
    limit: int = 50,
    include_private: bool = False,
) -> list[Message]:
    """The transcript in order, after ``after_id``; private notes only for agents."""
    get(session, conversation_id=conversation_id)
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if after_id is not None:
        stmt = stmt.where(Message.id > after_id)
    if not include_private:
        stmt = stmt.where(Message.private.is_(False))
    limit = max(1, min(limit, PAGE_MAX))
    return list(session.scalars(stmt.order_by(Message.id).limit(limit)))


def close(session: Session, *, conversation_id: int) -> Conversation:
    """Close the conversation; closing a closed one changes nothing."""
    conversation = get(session, conversation_id=conversation_id)
    if conversation.status != ConversationStatus.closed:
        conversation.status = ConversationStatus.closed
        conversation.closed_at = utcnow()
        session.flush()
    return conversation


def open_escalation_id(session: Session, *, conversation_id: int) -> int | None:
    """The escalation still open for this conversation, if any."""
    return session.scalar(
        select(Escalation.id)
        .where(
            Escalation.conversation_id == conversation_id,
            Escalation.status != EscalationStatus.closed,
        )
        .order_by(Escalation.id.desc())
        .limit(1)
    )


def ensure_can_access(
    session: Session, agent: Agent, conversation: Conversation
) -> None:
    """Raise ``Forbidden`` unless the agent may read this conversation."""
    if is_supervisor(agent) or conversation.assigned_agent_id == agent.id:
        return
    if conversation.customer_id is not None:
        ensure_can_access_customer(session, agent, conversation.customer_id)
        return
    # Unknown customer: the holder's team, or whoever an escalation was routed to.
    clauses = [
        Escalation.target_agent_id == agent.id,
        Escalation.assigned_agent_id == agent.id,
    ]
    if agent.team_id is not None:
        clauses.append(Escalation.target_team_id == agent.team_id)
        if conversation.assigned_agent_id is not None:
            holder = session.get(Agent, conversation.assigned_agent_id)
            if holder is not None and holder.team_id == agent.team_id:
                return
    routed = session.scalar(
        select(
            exists().where(
                Escalation.conversation_id == conversation.id,
                Escalation.status != EscalationStatus.closed,
                or_(*clauses),
            )
        )
    )
    if not routed:
        raise Forbidden("This conversation is not yours or your team's")


def list_for_customer(
    session: Session, *, customer_id: int, limit: int = 50
) -> tuple[list[tuple[Conversation, int]], int]:
    """A customer's conversations on every channel, newest first, with counts."""
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    message_count = (
        select(func.count(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Conversation, message_count)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(max(1, min(limit, PAGE_MAX)))
    ).all()
    total = session.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.customer_id == customer_id
        )
    )
    return [(row[0], int(row[1])) for row in rows], int(total or 0)
