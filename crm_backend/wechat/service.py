"""The 48-hour customer-service window of WeChat conversations.

WeChat lets the account write to a customer only within 48 hours of the
customer's last message (``conversations.last_customer_message_at``; subscribe
and menu taps are recorded as customer messages too). Outside it an agent's
reply cannot reach the customer: the send is refused with a clear error and a
call-back task is created for the agent instead, reusing the escalations'
call-back promise (``callback_due_at`` in the open escalation's slots: the queue
row shows 待回电, the brief the due time, the agent resolves with 已回电).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crm_backend.conversations import service as conversations
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.outbox import conversation_hint, pending
from crm_backend.escalations import routing
from crm_backend.escalations import service as escalations
from crm_backend.models import Agent, Conversation, Message
from crm_backend.models.base import utcnow
from crm_backend.models.enums import Channel, ConversationStatus, Sender
from crm_backend.wechat.schemas import UndeliveredCreate, UndeliveredRead

WINDOW_CLOSED = 45015  # WeChat's "response out of time limit"
WINDOW_CLOSED_TEXT = "客户已超过48小时未发消息，无法通过微信触达"
NOTE_MAX = 2000


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window_closes_at(
    conversation: Conversation, *, settings: Settings | None = None
) -> datetime | None:
    """When WeChat stops accepting messages to the customer (None: never opened)."""
    last = conversation.last_customer_message_at
    if last is None:
        return None
    hours = (settings or get_settings()).wechat_window_hours
    return _aware(last) + timedelta(hours=hours)


def window_open(
    conversation: Conversation,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> bool:
    """Whether the account may still write to this WeChat customer."""
    if conversation.channel != Channel.wechat:
        return True
    closes = window_closes_at(conversation, settings=settings)
    return closes is not None and (now or utcnow()) < closes


def register_callback(
    session: Session,
    conversation: Conversation,
    *,
    agent: Agent,
    note: str,
    now: datetime | None = None,
) -> datetime | None:
    """Promise a call-back on the open escalation (once) and tell the agent in a
    private note; the due time, or None when no escalation is open."""
    now = now or utcnow()
    escalation = escalations.open_for_conversation(
        session, conversation_id=conversation.id
    )
    due = None
    if escalation is not None:
        due = escalations.callback_due_at(escalation)
        if due is None:
            due = routing.callback_due(now)
            slots = dict(escalation.slots or {})
            slots[escalations.CALLBACK_KEY] = due.isoformat()
            escalation.slots = slots
            escalations.add_event(
                session, escalation, kind="callback", note=note, actor_id=agent.id
            )
            pending(session).hint(escalations.audience(session, escalation))
    if conversation.status == ConversationStatus.closed:
        return due
    conversations.record_message(
        session,
        conversation_id=conversation.id,
        sender=Sender.agent,
        text=note[:NOTE_MAX],
        agent_id=agent.id,
        private=True,
        max_length=NOTE_MAX,
    )
    pending(session).hint(
        conversation_hint(conversation.id, agent_ids=[conversation.assigned_agent_id])
    )
    return due


def ensure_window_open(
    session: Session, conversation: Conversation, *, agent: Agent, text: str
) -> None:
    """Refuse an agent's reply outside the window, creating the call-back task."""
    if window_open(conversation):
        return
    note = f"【未发出】{WINDOW_CLOSED_TEXT}，已登记回电。未发出的回复：{text}"
    due = register_callback(session, conversation, agent=agent, note=note)
    raise Conflict(
        "The customer has not written on WeChat for 48 hours and cannot be reached "
        "there; a call-back task was created",
        code="wechat_window_closed",
        keep_changes=True,  # the call-back task and the note stay
        notice=WINDOW_CLOSED_TEXT,
        callback_due_at=due.isoformat() if due else None,
    )


def undelivered(
    session: Session, *, undelivered_in: UndeliveredCreate
) -> UndeliveredRead:
    """WeChat refused one of the CRM's messages: for an agent's reply in a closed
    window (45015), the agent gets a note and a call-back task."""
    message = session.get(Message, undelivered_in.message_id)
    if message is None:
        raise NotFound("Message not found")
    conversation = conversations.get(session, conversation_id=message.conversation_id)
    if conversation.channel != Channel.wechat:
        raise Conflict("Not a WeChat conversation", code="not_wechat")
    payload = dict(message.payload or {})
    payload["wechat_undelivered"] = undelivered_in.errcode
    message.payload = payload
    due = None
    agent = session.get(Agent, message.agent_id) if message.agent_id else None
    if (
        undelivered_in.errcode == WINDOW_CLOSED
        and message.sender == Sender.agent
        and agent is not None
    ):
        note = f"【未送达】{WINDOW_CLOSED_TEXT}（微信返回45015），已登记回电。"
        due = register_callback(session, conversation, agent=agent, note=note)
    session.flush()
    return UndeliveredRead(
        conversation_id=conversation.id, callback=due is not None, callback_due_at=due
    )
