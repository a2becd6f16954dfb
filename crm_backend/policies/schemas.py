"""Policy views for the bot and the console (personal numbers masked)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from crm_backend.models.enums import (
    PaymentFrequency,
    PolicyStatus,
    ProductType,
    SalesChannel,
)


class BeneficiaryRead(BaseModel):
    """A beneficiary with the name masked (``张*明``) and their share."""

    name_masked: str
    relationship: str
    share_pct: int
    order: int


class PolicyRead(BaseModel):
    """A policy as the customer sees it, with derived service facts."""

    policy_no: str
    customer_role: str
    customer_role_label: str
    product_code: str
    product_name: str
    product_type: ProductType
    product_type_label: str
    status: PolicyStatus
    status_label: str
    holder_name: str
    insured_name: str
    beneficiaries: list[BeneficiaryRead]
    currency: str
    sum_assured_fen: int
    sum_assured_yuan: str
    premium_fen: int
    premium_yuan: str
    payment_frequency: PaymentFrequency
    payment_frequency_label: str
    payment_years: int
    start_date: date
    end_date: date | None
    paid_to_date: date | None
    cash_value_fen: int
    cash_value_yuan: str
    sales_channel: SalesChannel
    sales_channel_label: str
    servicing_agent_name: str | None
    debit_bank: str | None
    debit_account_masked: str | None
    within_hesitation_period: bool
    hesitation_end_date: date
    arrears_since: date | None
    within_grace_period: bool
    grace_end_date: date | None
    grace_days_left: int | None
    surrender_value_fen: int
    surrender_value_yuan: str
    policy_loan_allowed: bool
    policy_loan_ratio_pct: int
    loan_available_fen: int
    loan_available_yuan: str


class PolicyList(BaseModel):
    """A customer's policies (as holder or insured), newest first."""

    items: list[PolicyRead]
    total: int
