"""What the bot understood of a customer's message, and the churn signal a strongly
negative chat raises. The gateway records the understanding after the Rasa turn
(it reads it from the tracker), so the signal rule runs here as well as when a
message arrives already scored."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.models import Conversation, CustomerSignal, Message
from crm_backend.models.base import utcnow
from crm_backend.models.enums import Sender, SignalKind

NEGATIVE_SENTIMENT = -0.6


def record_negative_chat(
    session: Session,
    *,
    conversation: Conversation,
    message: Message,
    settings: Settings | None = None,
) -> CustomerSignal | None:
    """A churn signal for a strongly negative chat (once per conversation)."""
    assert conversation.customer_id is not None
    already = session.scalar(
        select(
            exists().where(
                CustomerSignal.conversation_id == conversation.id,
                CustomerSignal.kind == SignalKind.negative_chat,
            )
        )
    )
    if already:
        return None
    signal = CustomerSignal(
        customer_id=conversation.customer_id,
        kind=SignalKind.negative_chat,
        detail=f"对话情绪评分 {message.sentiment:.2f}",
        conversation_id=conversation.id,
    )
    session.add(signal)
    session.flush()
    # Imported here: analytics depends on the models only, not on conversations.
    from crm_backend.analytics.service import recompute

    recompute(session, customer_id=conversation.customer_id, settings=settings)
    return signal


def is_negative(sentiment: float | None) -> bool:
    """Strongly negative: at or below ``NEGATIVE_SENTIMENT``."""
    return sentiment is not None and sentiment <= NEGATIVE_SENTIMENT


def record_understanding(
    session: Session,
    *,
    conversation_id: int,
    message_id: int,
    intent: str | None,
    intent_confidence: float | None,
    sentiment: float | None,
    settings: Settings | None = None,
) -> Message:
    """Store a customer message's intent, confidence and sentiment (again, if the
    gateway repeats itself); a strongly negative one raises the churn signal."""
    conversation = session.get(Conversation, conversation_id)
    message = session.get(Message, message_id)
    if conversation is None or message is None:
        raise NotFound("Message not found", code="message_not_found")
    if message.conversation_id != conversation.id:
        raise NotFound("Message not found", code="message_not_found")
    if message.sender != Sender.customer:
        raise Conflict(
            "Only a customer's message has an understanding",
            code="not_customer_message",
        )
    message.intent = intent
    message.intent_confidence = intent_confidence
    message.sentiment = sentiment
    message.understood_at = utcnow()
    session.flush()
    if is_negative(sentiment) and conversation.customer_id is not None:
        record_negative_chat(
            session, conversation=conversation, message=message, settings=settings
        )
    return message
