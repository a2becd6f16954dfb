"""Claim views (status, amounts, timeline) and the report input."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from crm_backend.models.enums import ClaimStatus, ClaimType


class ClaimEventRead(BaseModel):
    """One step of a claim's timeline."""

    status: ClaimStatus
    status_label: str
    note: str | None
    created_at: datetime


class ClaimSummary(BaseModel):
    """A claim's status and amounts."""

    claim_no: str
    policy_no: str
    product_name: str
    type: ClaimType
    type_label: str
    incident_date: date
    reported_at: datetime
    reported_date: date
    currency: str
    amount_claimed_fen: int
    amount_claimed_yuan: str
    amount_paid_fen: int
    amount_paid_yuan: str
    status: ClaimStatus
    status_label: str
    is_open: bool
    pending_documents: str | None
    decision_reason: str | None
    updated_at: datetime


class ClaimRead(ClaimSummary):
    """A claim with its timeline, oldest step first."""

    events: list[ClaimEventRead]


class ClaimList(BaseModel):
    """A customer's claims, open ones first, then newest first."""

    items: list[ClaimSummary]
    total: int


class ClaimCreate(BaseModel):
    """A claim reported by a customer (报案) on one of their policies."""

    customer_id: int
    policy_no: str = Field(min_length=1, max_length=20)
    type: ClaimType
    incident_date: date
    amount_claimed_fen: int = Field(ge=0)
    description: str = Field(min_length=1, max_length=2000)
