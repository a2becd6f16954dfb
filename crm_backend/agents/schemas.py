"""Agent API shapes: login, the agent's own view, the directory, teams, assignments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.models.enums import AgentRole, AgentStatus, Presence


class LoginCreate(BaseModel):
    """Console login with the employee number and password."""

    employee_no: str = Field(min_length=1, max_length=16)
    password: str = Field(min_length=1, max_length=256)


class TeamBrief(BaseModel):
    """A team without its members."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    topics: list[str]


class MeRead(BaseModel):
    """The logged-in agent: who they are, their team, presence and current load."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    employee_no: str
    name: str
    role: AgentRole
    status: AgentStatus
    skills: list[str]
    presence: Presence
    presence_changed_at: datetime | None
    capacity: int
    work_phone: str | None
    email: str | None
    team: TeamBrief | None = None
    load: int = 0


class LoginRead(BaseModel):
    """The opaque session token (also set as the ``crm_session`` cookie)."""

    token: str
    agent: MeRead
    expires_at: datetime


class PresenceUpdate(BaseModel):
    """A change of the agent's own presence."""

    presence: Presence


class AgentDirectoryRead(BaseModel):
    """A colleague as every agent may see them (for transfers): nothing personal."""

    id: int
    name: str
    role: AgentRole
    team_id: int | None
    team_name: str | None
    skills: list[str]
    presence: Presence
    load: int
    capacity: int


class AgentDirectoryList(BaseModel):
    """The agent directory."""

    items: list[AgentDirectoryRead]


class TeamRead(TeamBrief):
    """A team with its active members' presence and load."""

    members: list[AgentDirectoryRead]
    online: int


class TeamList(BaseModel):
    """Teams visible to the caller."""

    items: list[TeamRead]


class AssignmentCreate(BaseModel):
    """A supervisor's (re)assignment of a customer to a servicing agent."""

    agent_id: int
    reason: str = Field(default="manual", min_length=1, max_length=32)


class AssignmentRead(BaseModel):
    """One period of a customer being served by one agent."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    agent_id: int
    agent_name: str
    reason: str
    assigned_at: datetime
    ended_at: datetime | None
    assigned_by_id: int | None


class AssignmentList(BaseModel):
    """A customer's assignment history, newest first."""

    items: list[AssignmentRead]


class DepartureCreate(BaseModel):
    """Who takes over a departing agent's customers (none: spread over the team)."""

    successor_id: int | None = None


class DepartureRead(BaseModel):
    """What a departure moved."""

    agent_id: int
    departed_at: datetime
    customers_reassigned: int
    policies_repointed: int
    sessions_revoked: int
    # open offers, held chats and named queue entries sent back to routing
    escalations_requeued: int = 0
    # unclosed complaint tickets handed back to their team's queue
    tickets_released: int = 0
    # successor agent id → number of customers they received
    successors: dict[int, int]
