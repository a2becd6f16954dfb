"""The supervisors' overview: every queue and every agent's presence and load."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from crm_backend.agents.load import load_parts
from crm_backend.console.schemas import AgentLoadRead, ConsoleOverview, QueueRead
from crm_backend.escalations.service import callback_due_at
from crm_backend.models import Agent, Escalation, Team
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus, EscalationStatus, Presence

UNROUTED = "未分配团队"


@dataclass
class _Tally:
    waiting: int = 0
    offered: int = 0
    callbacks: int = 0
    active: int = 0
    oldest: datetime | None = None


def _tally_queues(session: Session) -> dict[int | None, _Tally]:
    """Open escalations counted per team: the target team, else the team of the
    named (or holding) agent."""
    named = aliased(Agent)
    holder = aliased(Agent)
    rows = session.execute(
        select(Escalation, named.team_id, holder.team_id)
        .outerjoin(named, named.id == Escalation.target_agent_id)
        .outerjoin(holder, holder.id == Escalation.assigned_agent_id)
        .where(Escalation.status != EscalationStatus.closed)
    ).all()
    tallies: dict[int | None, _Tally] = defaultdict(_Tally)
    for escalation, named_team, holder_team in rows:
        if escalation.status == EscalationStatus.active:
            tallies[holder_team or escalation.target_team_id or named_team].active += 1
            continue
        tally = tallies[escalation.target_team_id or named_team]
        tally.waiting += 1
        tally.offered += escalation.offered_agent_id is not None
        tally.callbacks += callback_due_at(escalation) is not None
        since = escalation.transferred_at or escalation.queued_at
        tally.oldest = since if tally.oldest is None else min(tally.oldest, since)
    return tallies


def overview(session: Session, *, now: datetime | None = None) -> ConsoleOverview:
    """Queues per team and every active agent with held / offered / capacity."""
    now = now or utcnow()
    teams = list(session.scalars(select(Team).order_by(Team.id)))
    agents = list(
        session.scalars(
            select(Agent)
            .where(Agent.status == AgentStatus.active)
            .order_by(Agent.team_id, Agent.id)
        )
    )
    loads = load_parts(session, [a.id for a in agents])
    team_names = {t.id: t.name for t in teams}
    online: dict[int | None, int] = defaultdict(int)
    for agent in agents:
        online[agent.team_id] += agent.presence == Presence.online
    tallies = _tally_queues(session)

    def queue(team: Team | None, tally: _Tally) -> QueueRead:
        oldest = tally.oldest
        return QueueRead(
            team_id=team.id if team else None,
            team_code=team.code if team else None,
            team_name=team.name if team else UNROUTED,
            topics=list(team.topics or []) if team else [],
            waiting=tally.waiting,
            offered=tally.offered,
            callbacks=tally.callbacks,
            active=tally.active,
            oldest_queued_at=oldest,
            oldest_wait_minutes=(
                max(0, int((now - oldest).total_seconds() // 60)) if oldest else None
            ),
            online_agents=online.get(team.id if team else None, 0),
        )

    queues = [queue(team, tallies.get(team.id, _Tally())) for team in teams]
    if None in tallies:
        queues.append(queue(None, tallies[None]))
    agent_rows = []
    for agent in agents:
        part = loads[agent.id]
        agent_rows.append(
            AgentLoadRead(
                id=agent.id,
                name=agent.name,
                employee_no=agent.employee_no,
                role=agent.role,
                team_id=agent.team_id,
                team_name=team_names.get(agent.team_id or -1),
                presence=agent.presence,
                presence_changed_at=agent.presence_changed_at,
                held=part.held,
                offered=part.offered,
                load=part.total,
                capacity=agent.capacity,
                available=agent.presence == Presence.online
                and part.total < agent.capacity,
            )
        )
    return ConsoleOverview(
        queues=queues,
        agents=agent_rows,
        waiting_total=sum(t.waiting for t in tallies.values()),
        active_total=sum(t.active for t in tallies.values()),
        generated_at=now,
    )
