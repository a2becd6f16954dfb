"""WeChat delivery reports from the gateway."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class UndeliveredCreate(BaseModel):
    """WeChat refused to deliver a recorded message (``errcode`` is WeChat's)."""

    message_id: int
    errcode: int = Field(description="45015: the 48-hour window is closed")


class UndeliveredRead(BaseModel):
    """What the CRM did about it: a call-back task for the agent, if any."""

    conversation_id: int
    callback: bool
    callback_due_at: datetime | None
