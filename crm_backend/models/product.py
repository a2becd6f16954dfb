"""Products and policies with their beneficiaries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, TimestampMixin, str_enum
from crm_backend.models.enums import (
    PaymentFrequency,
    PolicyStatus,
    ProductType,
    SalesChannel,
)


class Product(Base):
    """An insurance product and what it covers."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[ProductType] = mapped_column(str_enum(ProductType), index=True)
    coverage: Mapped[str] = mapped_column(Text)
    exclusions: Mapped[str | None] = mapped_column(Text)
    waiting_period_days: Mapped[int] = mapped_column(default=0)
    hesitation_period_days: Mapped[int] = mapped_column(default=15)
    grace_period_days: Mapped[int] = mapped_column(default=60)
    term_years: Mapped[int | None]  # None: whole life
    allows_policy_loan: Mapped[bool] = mapped_column(default=False)
    policy_loan_ratio_pct: Mapped[int] = mapped_column(default=80)


class Policy(TimestampMixin, Base):
    """A contract: holder, insured, product, premium and status."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_no: Mapped[str] = mapped_column(String(20), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    status: Mapped[PolicyStatus] = mapped_column(str_enum(PolicyStatus), index=True)
    sum_assured_fen: Mapped[int]
    premium_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_frequency: Mapped[PaymentFrequency] = mapped_column(
        str_enum(PaymentFrequency)
    )
    payment_years: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    paid_to_date: Mapped[date | None]
    cash_value_fen: Mapped[int] = mapped_column(default=0)
    sales_channel: Mapped[SalesChannel] = mapped_column(str_enum(SalesChannel))
    servicing_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), index=True
    )
    debit_bank: Mapped[str | None] = mapped_column(String(32))
    debit_account_no: Mapped[str | None] = mapped_column(String(32))
    status_changed_at: Mapped[date | None]


class Beneficiary(Base):
    """A named beneficiary of a policy and their share."""

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    relationship_to_insured: Mapped[str] = mapped_column(String(16))
    share_pct: Mapped[int]
    order: Mapped[int] = mapped_column(default=1)
