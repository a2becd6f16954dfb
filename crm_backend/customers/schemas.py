"""Customer views: masked for the bot, a fuller profile for the console, contact."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_backend.models.enums import (
    AgentRole,
    Gender,
    Presence,
    RiskLevel,
    SignalKind,
    ValueTier,
)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# email-validator is not installed; a pragmatic shape check is enough for contact data
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)

ROLE_LABELS = {
    AgentRole.service_agent: "客服专员",
    AgentRole.sales_agent: "业务员",
    AgentRole.account_manager: "客户经理",
    AgentRole.retention: "客户关怀专员",
    AgentRole.supervisor: "客服主管",
}


def normalize_phone(value: str) -> str:
    """Drop spaces, dashes and a leading +86 / 86 country code."""
    digits = re.sub(r"[\s-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


class CustomerBrief(BaseModel):
    """The smallest masked summary: who was verified."""

    id: int
    customer_no: str
    name: str
    salutation: str
    gender: Gender
    phone_masked: str | None
    value_tier: ValueTier


class AgentContact(BaseModel):
    """A servicing agent as the customer may see them (work phone is not personal)."""

    id: int
    name: str
    employee_no: str
    role: AgentRole
    role_label: str
    work_phone: str | None
    departed: bool


class CustomerSummary(BaseModel):
    """The masked summary the bot may show once the customer is verified."""

    id: int
    customer_no: str
    name: str
    salutation: str
    gender: Gender
    age: int
    region: str
    city: str | None
    phone_masked: str | None
    email_masked: str | None
    id_number_masked: str | None
    value_tier: ValueTier
    churn_risk: RiskLevel
    wechat_bound: bool
    servicing_agent: AgentContact | None


class ServicingAgentRead(BaseModel):
    """The customer's current servicing agent and how to reach them."""

    id: int
    name: str
    employee_no: str
    role: AgentRole
    role_label: str
    team_name: str | None
    presence: Presence
    work_phone: str | None
    departed: bool
    departed_at: datetime | None
    available: bool
    assigned_at: datetime


class CustomerAgentRead(BaseModel):
    """Answer to "who is my agent": ``agent`` is None when nobody is assigned."""

    customer_id: int
    assigned: bool
    agent: ServicingAgentRead | None


class ContactUpdate(BaseModel):
    """New contact data; needs a step-up token for purpose ``update_contact``."""

    step_up_token: str | None = None
    phone: str | None = None
    email: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, min_length=2, max_length=256)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        phone = normalize_phone(value)
        if not MOBILE_RE.fullmatch(phone):
            raise ValueError(
                "phone must be a mainland mobile number (1[3-9] + 9 digits)"
            )
        return phone

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        email = value.strip()
        if not EMAIL_RE.fullmatch(email):
            raise ValueError("email is not a valid address")
        return email.lower()

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> ContactUpdate:
        if self.phone is None and self.email is None and self.address is None:
            raise ValueError("give at least one of phone, email, address")
        return self


BotSignalKind = Literal["payment_difficulty", "surrender_enquiry", "negative_chat"]


class SignalCreate(BaseModel):
    """A churn signal the bot observed in a conversation."""

    kind: BotSignalKind
    detail: str | None = Field(default=None, max_length=2000)
    conversation_id: int | None = None


class SignalRead(BaseModel):
    """A recorded churn signal."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    kind: SignalKind
    detail: str | None
    conversation_id: int | None
    created_at: datetime


class SignalRecorded(BaseModel):
    """The signal plus the churn risk after recomputation."""

    signal: SignalRead
    churn_risk: RiskLevel


class CustomerListItem(BaseModel):
    """One row of the console's customer search (phone masked in lists)."""

    id: int
    customer_no: str
    name: str
    gender: Gender
    age: int
    region: str
    phone_masked: str | None
    value_tier: ValueTier
    churn_risk: RiskLevel
    servicing_agent_name: str | None


class CustomerList(BaseModel):
    """A page of customers."""

    items: list[CustomerListItem]
    total: int
    limit: int
    offset: int


class ScoreRead(BaseModel):
    """Value tier and churn risk with their reasons (defaults when never computed)."""

    value_tier: ValueTier
    value_score: int
    annual_premium_fen: int
    value_reasons: list[dict[str, Any]]
    churn_risk: RiskLevel
    churn_score: int
    churn_reasons: list[dict[str, Any]]
    computed_at: datetime | None


class AssignmentRead(BaseModel):
    """One period of a customer's servicing-agent history."""

    agent_id: int
    agent_name: str
    employee_no: str
    departed: bool
    reason: str
    assigned_at: datetime
    ended_at: datetime | None


class CustomerProfile(BaseModel):
    """The console's customer profile; the phone is whole here (agents call)."""

    id: int
    customer_no: str
    name: str
    gender: Gender
    age: int
    birth_date: date
    id_number_masked: str | None
    phone: str
    email: str | None
    address: str | None
    region: str
    city: str | None
    occupation: str | None
    education: str | None
    acquisition_channel: str | None
    wechat_bound: bool
    wechat_bound_at: datetime | None
    created_at: datetime
    score: ScoreRead
    servicing_agent: ServicingAgentRead | None
    assignments: list[AssignmentRead]
