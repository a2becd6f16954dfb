"""Agents: the directory, teams, presence and the agent's own view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.agents.load import agent_loads
from crm_backend.agents.schemas import (
    AgentDirectoryRead,
    MeRead,
    TeamBrief,
    TeamRead,
)
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.models import Agent, Team
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus, Presence


def get_agent(session: Session, *, agent_id: int) -> Agent:
    """The agent, or ``NotFound``."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("Agent not found")
    return agent


def set_presence(
    session: Session, *, agent: Agent, presence: Presence, now: datetime | None = None
) -> Agent:
    """Change the agent's presence (online / away / offline)."""
    if agent.status != AgentStatus.active:
        raise Conflict("A departed agent has no presence")
    if agent.presence != presence or agent.presence_changed_at is None:
        agent.presence = presence
        agent.presence_changed_at = now or utcnow()
        session.flush()
    return agent


def me(session: Session, *, agent: Agent) -> MeRead:
    """The agent's own view: profile, team, presence, capacity and load."""
    team = session.get(Team, agent.team_id) if agent.team_id else None
    view = MeRead.model_validate(agent)
    view.team = TeamBrief.model_validate(team) if team else None
    view.load = agent_loads(session, [agent.id])[agent.id]
    return view


def _directory(
    session: Session, rows: Sequence[tuple[Agent, Team | None]]
) -> list[AgentDirectoryRead]:
    loads = agent_loads(session, [a.id for a, _ in rows])
    return [
        AgentDirectoryRead(
            id=a.id,
            name=a.name,
            role=a.role,
            team_id=a.team_id,
            team_name=t.name if t else None,
            skills=list(a.skills or []),
            presence=a.presence,
            load=loads[a.id],
            capacity=a.capacity,
        )
        for a, t in rows
    ]


def list_agents(
    session: Session, *, team_id: int | None = None, presence: Presence | None = None
) -> list[AgentDirectoryRead]:
    """Active agents (all teams: every agent may transfer to any colleague)."""
    query = (
        select(Agent, Team)
        .outerjoin(Team, Team.id == Agent.team_id)
        .where(Agent.status == AgentStatus.active)
        .order_by(Team.name, Agent.name, Agent.id)
    )
    if team_id is not None:
        query = query.where(Agent.team_id == team_id)
    if presence is not None:
        query = query.where(Agent.presence == presence)
    rows = [(a, t) for a, t in session.execute(query).all()]
    return _directory(session, rows)


def list_teams(session: Session, *, viewer: Agent) -> list[TeamRead]:
    """Teams with their members; an agent sees only their own, a supervisor all."""
    query = select(Team).order_by(Team.name, Team.id)
    if not is_supervisor(viewer):
        if viewer.team_id is None:
            return []
        query = query.where(Team.id == viewer.team_id)
    teams = list(session.scalars(query))
    members = session.execute(
        select(Agent)
        .where(
            Agent.team_id.in_([t.id for t in teams]),
            Agent.status == AgentStatus.active,
        )
        .order_by(Agent.name, Agent.id)
    ).scalars()
    by_team: dict[int, list[tuple[Agent, Team | None]]] = {t.id: [] for t in teams}
    team_of = {t.id: t for t in teams}
    for agent in members:
        if agent.team_id is not None:
            by_team[agent.team_id].append((agent, team_of[agent.team_id]))
    result = []
    for team in teams:
        entries = _directory(session, by_team[team.id])
        result.append(
            TeamRead(
                id=team.id,
                code=team.code,
                name=team.name,
                topics=list(team.topics or []),
                members=entries,
                online=sum(1 for e in entries if e.presence == Presence.online),
            )
        )
    return result
