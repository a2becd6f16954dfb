"""Console API shapes: the supervisors' overview of queues and agents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crm_backend.models.enums import AgentRole, Presence


class QueueRead(BaseModel):
    """One team's queue (team None: escalations no team takes)."""

    team_id: int | None
    team_code: str | None
    team_name: str
    topics: list[str]
    waiting: int = Field(description="queued escalations (offered or not)")
    offered: int = Field(description="queued escalations offered to an agent now")
    callbacks: int = Field(description="queued with a call-back promised")
    active: int = Field(description="accepted, being served")
    oldest_queued_at: datetime | None
    oldest_wait_minutes: int | None
    online_agents: int


class AgentLoadRead(BaseModel):
    """An agent's presence and load (held conversations + current offers)."""

    id: int
    name: str
    employee_no: str
    role: AgentRole
    team_id: int | None
    team_name: str | None
    presence: Presence
    presence_changed_at: datetime | None
    held: int
    offered: int
    load: int
    capacity: int
    available: bool = Field(description="online and under capacity")


class ConsoleOverview(BaseModel):
    """Every queue and every active agent, for supervisors."""

    queues: list[QueueRead]
    agents: list[AgentLoadRead]
    waiting_total: int
    active_total: int
    generated_at: datetime
