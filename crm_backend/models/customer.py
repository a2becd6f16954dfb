"""Customers, their scores, churn signals, identity attempts and the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, TimestampMixin, str_enum, utcnow
from crm_backend.models.enums import (
    Gender,
    RiskLevel,
    SignalKind,
    ValueTier,
    VerificationMethod,
)


class Customer(TimestampMixin, Base):
    """A person the insurer serves (policyholder or insured)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_no: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[Gender] = mapped_column(str_enum(Gender))
    birth_date: Mapped[date]
    # Stored whole for identity checks; never returned whole outside the agent view.
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(256))
    region: Mapped[str] = mapped_column(String(32), index=True)
    city: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(64))
    education: Mapped[str | None] = mapped_column(String(32))
    acquisition_channel: Mapped[str | None] = mapped_column(String(32))
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_bound_at: Mapped[datetime | None]


class CustomerScore(Base):
    """Value tier and churn risk with the reasons that produced them."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    value_score: Mapped[int] = mapped_column(default=0)
    value_tier: Mapped[ValueTier] = mapped_column(str_enum(ValueTier), index=True)
    annual_premium_fen: Mapped[int] = mapped_column(default=0)
    value_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    churn_score: Mapped[int] = mapped_column(default=0)
    churn_risk: Mapped[RiskLevel] = mapped_column(str_enum(RiskLevel), index=True)
    churn_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerSignal(Base):
    """A churn-relevant event: payment difficulty, surrender enquiry, angry chat…"""

    __tablename__ = "customer_signals"
    __table_args__ = (
        Index("ix_customer_signals_customer_kind", "customer_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    kind: Mapped[SignalKind] = mapped_column(str_enum(SignalKind))
    detail: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class VerificationAttempt(Base):
    """One identity check; failures within a window lock the subject out."""

    __tablename__ = "verification_attempts"
    __table_args__ = (
        Index("ix_verification_attempts_subject", "subject", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # what the attempt was about: "phone:138…", "policy:P…", "conversation:12"
    subject: Mapped[str] = mapped_column(String(64))
    method: Mapped[VerificationMethod] = mapped_column(str_enum(VerificationMethod))
    success: Mapped[bool]
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OneTimeCode(Base):
    """A step-up code sent through the notifier; stored hashed."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message for the customer through a notifier (SMS in production)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
