"""Identity inputs and answers: verification, step-up codes, WeChat binding."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from crm_backend.customers.schemas import CustomerBrief, normalize_phone

StepUpPurpose = Literal["update_contact", "change_bank"]


class VerifyCreate(BaseModel):
    """One identity check: phone + ID last 4, policy number + birth date, or openid."""

    method: Literal["phone_id", "policy_birth", "wechat"]
    phone: str | None = Field(default=None, max_length=20)
    id_last4: str | None = Field(default=None, max_length=8)
    policy_no: str | None = Field(default=None, max_length=32)
    birth_date: date | None = None
    openid: str | None = Field(default=None, min_length=1, max_length=64)
    conversation_id: int | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value is not None else None

    @field_validator("id_last4")
    @classmethod
    def _id_last4(cls, value: str | None) -> str | None:
        if value is None:
            return None
        last4 = value.strip().upper()
        if not re.fullmatch(r"[0-9]{3}[0-9X]|[0-9]{4}", last4):
            raise ValueError("id_last4 must be 4 digits (the last may be X)")
        return last4

    @field_validator("policy_no")
    @classmethod
    def _policy_no(cls, value: str | None) -> str | None:
        return value.strip().upper() if value is not None else None

    @model_validator(mode="after")
    def _fields_for_method(self) -> VerifyCreate:
        needed = {
            "phone_id": ("phone", "id_last4"),
            "policy_birth": ("policy_no", "birth_date"),
            "wechat": ("openid",),
        }[self.method]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"{self.method} needs {', '.join(missing)}")
        return self


class VerifyRead(BaseModel):
    """The outcome of a check; a failure never says whether the phone exists."""

    verified: bool
    attempts_left: int
    customer: CustomerBrief | None = None


class StepUpCreate(BaseModel):
    """Ask for a one-time code before a sensitive change."""

    customer_id: int
    purpose: StepUpPurpose
    conversation_id: int | None = None


class StepUpSent(BaseModel):
    """The code went out; the code itself is never returned."""

    sent: bool
    channel: str
    recipient_masked: str | None
    expires_at: datetime


class StepUpVerify(BaseModel):
    """The code the customer typed."""

    customer_id: int
    code: str = Field(min_length=1, max_length=12)
    conversation_id: int | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return re.sub(r"\s", "", value)


class StepUpVerified(BaseModel):
    """A wrong code (``verified`` false) or the token for the change."""

    verified: bool
    attempts_left: int
    purpose: StepUpPurpose | None = None
    step_up_token: str | None = None
    token_expires_at: datetime | None = None


class WechatBindingCreate(BaseModel):
    """Bind an openid to a customer verified in ``conversation_id``."""

    customer_id: int
    openid: str = Field(min_length=1, max_length=64)
    conversation_id: int


class WechatBindingRead(BaseModel):
    """The binding as stored."""

    customer: CustomerBrief
    openid: str
    bound_at: datetime
