"""Writing a conversation's messages in time order, and churn signals."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm_backend.demo.context import Context
from crm_backend.models import CustomerSignal, Message
from crm_backend.models.enums import Channel, Sender, SignalKind


class Transcript:
    """Appends messages to one conversation, advancing its clock."""

    def __init__(
        self, ctx: Context, conversation_id: int, channel: Channel, clock: datetime
    ) -> None:
        self.ctx = ctx
        self.conversation_id = conversation_id
        self.channel = channel
        self.clock = clock
        self.last_customer = clock
        self.worst = 1.0  # the most negative customer sentiment so far

    def wait(self, seconds: float) -> datetime:
        """Move the clock on by ``seconds``; returns the new time."""
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def say(
        self,
        sender: Sender,
        text: str,
        *,
        sentiment: float | None = None,
        intent: str | None = None,
        agent_id: int | None = None,
        private: bool = False,
    ) -> None:
        """Queue one message at the current clock."""
        rng = self.ctx.rng
        external = None
        if sender == Sender.customer:
            self.last_customer = self.clock
            if sentiment is not None:
                self.worst = min(self.worst, sentiment)
            if self.channel == Channel.wechat:
                external = str(rng.randrange(10**18, 10**19))  # WeChat MsgId
        confidence = round(rng.uniform(0.72, 0.99), 2) if intent else None
        self.ctx.add(
            Message,
            {
                "conversation_id": self.conversation_id,
                "sender": sender,
                "agent_id": agent_id,
                "text": text,
                "sentiment": sentiment,
                "intent": intent,
                "intent_confidence": confidence,
                "external_msg_id": external,
                "private": private,
                "payload": None,
                "created_at": self.clock,
            },
        )


def add_signal(
    ctx: Context,
    customer_id: int,
    kind: SignalKind,
    detail: str,
    at: datetime,
    conversation_id: int | None = None,
) -> None:
    """Queue one churn signal."""
    ctx.add(
        CustomerSignal,
        {
            "customer_id": customer_id,
            "kind": kind,
            "detail": detail,
            "conversation_id": conversation_id,
            "created_at": ctx.clamp(at),
        },
    )


_TOPIC_SIGNALS = {
    "payment_difficulty": (
        SignalKind.payment_difficulty,
        "客户在对话中表示近期缴费困难",
    ),
    "surrender": (SignalKind.surrender_enquiry, "客户在对话中咨询退保及退保金额"),
}


def chat_signals(ctx: Context, customer_id: int, topic: str, chat: Transcript) -> None:
    """The churn signals a finished bot conversation gives."""
    if topic in _TOPIC_SIGNALS:
        kind, detail = _TOPIC_SIGNALS[topic]
        add_signal(ctx, customer_id, kind, detail, chat.clock, chat.conversation_id)
    if chat.worst <= -0.6:
        detail = f"对话情绪明显负面（{chat.worst:.2f}）"
        add_signal(
            ctx,
            customer_id,
            SignalKind.negative_chat,
            detail,
            chat.clock,
            chat.conversation_id,
        )
