"""Claims and their timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, TimestampMixin, str_enum, utcnow
from crm_backend.models.enums import ClaimStatus, ClaimType


class Claim(TimestampMixin, Base):
    """A claim against a policy."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_no: Mapped[str] = mapped_column(String(20), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    type: Mapped[ClaimType] = mapped_column(str_enum(ClaimType))
    incident_date: Mapped[date]
    reported_at: Mapped[datetime]
    amount_claimed_fen: Mapped[int]
    amount_paid_fen: Mapped[int] = mapped_column(default=0)
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus), index=True)
    pending_documents: Mapped[str | None] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)


class ClaimEvent(Base):
    """One step in a claim's timeline."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
