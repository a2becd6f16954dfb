"""The customer's estimated wait in the queue, from the desk's own recent figures.

A queued customer is offered at once while the target (their named agent, or the
team's online agents) has a place not taken by a conversation: the first ``free`` in
the queue wait about a minute for an agent to accept. Behind those, each customer
waits for a conversation to end. With ``slots`` conversations running side by side,
each taking the desk's median handling time (accept → resolve over its recent
conversations), one place frees every ``handling / slots`` minutes on average: the
usual contact-centre approximation. A desk with too few recent conversations to
measure uses ``DEFAULT_HANDLING_MINUTES``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.agents.load import load_parts
from crm_backend.models import Agent, Escalation
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus, EscalationStatus, Presence

DEFAULT_HANDLING_MINUTES = 8.0
# fewer finished conversations than this in the window: the default is used
MIN_SAMPLES = 5
WINDOW = timedelta(days=14)
MAX_SAMPLES = 200
ACCEPT_MINUTES = 1


@dataclass(frozen=True)
class Capacity:
    """What serves a queue now: places free, places in all, minutes per chat."""

    free: int
    slots: int
    handling_minutes: float


def estimated_wait_minutes(position: int, capacity: Capacity) -> int:
    """Minutes a customer at ``position`` (1 = next) may wait."""
    if position <= capacity.free:
        return ACCEPT_MINUTES
    behind = position - capacity.free
    minutes = behind * capacity.handling_minutes / max(1, capacity.slots)
    return max(ACCEPT_MINUTES, math.ceil(minutes))


def handling_minutes(
    session: Session, *, agent_id: int | None = None, team_id: int | None = None
) -> float:
    """Median accept → resolve minutes of the target's recent conversations."""
    query = select(
        Escalation.accepted_at, Escalation.resolved_at, Escalation.closed_at
    ).where(
        Escalation.accepted_at.is_not(None),
        Escalation.status == EscalationStatus.closed,
        Escalation.closed_at >= utcnow() - WINDOW,
    )
    if agent_id is not None:
        query = query.where(Escalation.assigned_agent_id == agent_id)
    else:
        query = query.where(Escalation.target_team_id == team_id)
    rows = session.execute(
        query.order_by(Escalation.closed_at.desc()).limit(MAX_SAMPLES)
    ).all()
    minutes = []
    for accepted, resolved, closed in rows:
        ended = resolved or closed
        if accepted is not None and ended is not None and ended >= accepted:
            minutes.append((ended - accepted).total_seconds() / 60)
    if len(minutes) < MIN_SAMPLES:
        return DEFAULT_HANDLING_MINUTES
    return max(1.0, statistics.median(minutes))


def capacity_for(session: Session, escalation: Escalation) -> Capacity:
    """The places of the escalation's target and the target's handling time."""
    if escalation.target_agent_id is not None:
        target = Agent.id == escalation.target_agent_id
        minutes = handling_minutes(session, agent_id=escalation.target_agent_id)
    else:
        target = Agent.team_id == escalation.target_team_id
        minutes = handling_minutes(session, team_id=escalation.target_team_id)
    serving = list(
        session.scalars(
            select(Agent).where(
                target,
                Agent.status == AgentStatus.active,
                Agent.presence == Presence.online,
            )
        )
    )
    # held conversations only: the customers ahead who hold an offer are counted in
    # the position, and they take the free places first
    held = {
        i: part.held for i, part in load_parts(session, [a.id for a in serving]).items()
    }
    return Capacity(
        free=sum(max(0, a.capacity - held.get(a.id, 0)) for a in serving),
        slots=sum(a.capacity for a in serving),
        handling_minutes=minutes,
    )


def estimate(session: Session, escalation: Escalation, position: int) -> int:
    """Minutes the customer at ``position`` may wait (about one while offered)."""
    if escalation.offered_agent_id is not None:
        return ACCEPT_MINUTES  # an agent has it on screen: waiting for the accept
    return estimated_wait_minutes(position, capacity_for(session, escalation))
