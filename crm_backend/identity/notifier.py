"""How one-time codes reach the customer: a protocol and the embedded outbox default."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends
from sqlalchemy.orm import Session

from crm_backend.models import Customer, OutboxMessage

SMS_SIGNATURE = "【安顺人寿】"


class Notifier(Protocol):
    """Sends a text to a customer (SMS gateway, WeChat template message, outbox…)."""

    channel: str

    def send(self, session: Session, *, customer: Customer, body: str) -> None:
        """Deliver ``body`` to ``customer`` (or queue it for delivery)."""
        ...


class OutboxNotifier:
    """The embedded default: an ``outbox`` row that a relay or a person sends on."""

    channel = "sms"

    def send(self, session: Session, *, customer: Customer, body: str) -> None:
        """Queue ``body`` for the customer's phone in the outbox table."""
        session.add(
            OutboxMessage(
                customer_id=customer.id,
                channel=self.channel,
                recipient=customer.phone,
                body=body,
            )
        )
        session.flush()


def step_up_text(code: str, ttl_minutes: int) -> str:
    """The SMS body of a step-up code."""
    return f"{SMS_SIGNATURE}您的验证码为{code}，{ttl_minutes}分钟内有效，请勿泄露。"


def get_notifier() -> Notifier:
    """The configured notifier (override this dependency to plug in another)."""
    return OutboxNotifier()


NotifierDep = Annotated[Notifier, Depends(get_notifier)]
