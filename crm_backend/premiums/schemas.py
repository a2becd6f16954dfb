"""Bills, arrears, payment history and the debit-card change."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from crm_backend.models.enums import (
    BillStatus,
    PaymentFrequency,
    PaymentMethod,
    PaymentResult,
    PolicyStatus,
)


class BillRead(BaseModel):
    """One instalment of a policy."""

    policy_no: str
    due_date: date
    currency: str
    amount_fen: int
    amount_yuan: str
    status: BillStatus
    status_label: str


class PolicyBills(BaseModel):
    """A policy's next instalment and its arrears with the grace countdown."""

    policy_no: str
    product_name: str
    policy_status: PolicyStatus
    policy_status_label: str
    payment_frequency: PaymentFrequency
    payment_frequency_label: str
    premium_fen: int
    premium_yuan: str
    paid_to_date: date | None
    next_bill: BillRead | None
    arrears_count: int
    arrears_fen: int
    arrears_yuan: str
    arrears_since: date | None
    within_grace_period: bool
    grace_end_date: date | None
    grace_days_left: int | None
    debit_bank: str | None
    debit_account_masked: str | None


class BillsOverview(BaseModel):
    """Everything the customer owes, per policy and in total."""

    customer_id: int
    policies: list[PolicyBills]
    next_bill: BillRead | None
    arrears_count: int
    arrears_fen: int
    arrears_yuan: str
    arrears_since: date | None


class PaymentRead(BaseModel):
    """A payment attempt; a failed one explains why and what to do."""

    attempted_at: datetime
    policy_no: str
    bill_due_date: date
    currency: str
    amount_fen: int
    amount_yuan: str
    method: PaymentMethod
    method_label: str
    result: PaymentResult
    result_label: str
    account_tail: str | None
    failure_reason: str | None
    failure_label: str | None
    failure_explanation: str | None
    failure_advice: str | None


class PaymentList(BaseModel):
    """The most recent payment attempts, newest first."""

    items: list[PaymentRead]
    total: int


class DebitCardChange(BaseModel):
    """A new debit account for a policy, authorised by a step-up token."""

    customer_id: int
    step_up_token: str = Field(min_length=1)
    bank: str = Field(min_length=2, max_length=32)
    account_no: str = Field(min_length=1, max_length=40)


class DebitCardRead(BaseModel):
    """The policy's debit account after the change (masked)."""

    policy_no: str
    debit_bank: str
    debit_account_masked: str
