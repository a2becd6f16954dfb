"""Premium bills and payment attempts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, str_enum, utcnow
from crm_backend.models.enums import BillStatus, PaymentMethod, PaymentResult


class PremiumBill(Base):
    """One instalment due on a policy."""

    __tablename__ = "premium_bills"
    __table_args__ = (Index("ix_premium_bills_policy_due", "policy_id", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE")
    )
    due_date: Mapped[date]
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[BillStatus] = mapped_column(str_enum(BillStatus), index=True)
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """An attempt to pay a bill, successful or not."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(
        ForeignKey("premium_bills.id", ondelete="CASCADE"), index=True
    )
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    result: Mapped[PaymentResult] = mapped_column(str_enum(PaymentResult))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    account_last4: Mapped[str | None] = mapped_column(String(4))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
