"""Escalation queries and rules: routing inputs, queue position, CSAT, listings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.core.errors import Conflict, Forbidden, NotFound
from crm_backend.escalations.routing import AgentLoad, TeamOption
from crm_backend.models import (
    Agent,
    Conversation,
    CustomerAssignment,
    CustomerScore,
    Escalation,
    EscalationEvent,
    Message,
    Team,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentStatus,
    ConversationStatus,
    EscalationStatus,
    Presence,
    RiskLevel,
    Sender,
    ValueTier,
)

Scope = Literal["mine", "team", "all"]
BUSY_STATUSES = (ConversationStatus.queued, ConversationStatus.agent)
CALLBACK_KEY = "callback_due_at"  # the CRM's own key in ``Escalation.slots``
LIST_MAX = 200


def get(session: Session, *, escalation_id: int) -> Escalation:
    """One escalation, or ``NotFound``."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound("Escalation not found")
    return escalation


def open_for_conversation(
    session: Session, *, conversation_id: int
) -> Escalation | None:
    """The escalation of this conversation that is not closed yet."""
    return session.scalars(
        select(Escalation)
        .where(
            Escalation.conversation_id == conversation_id,
            Escalation.status != EscalationStatus.closed,
        )
        .order_by(Escalation.id.desc())
        .limit(1)
    ).first()


def standing(
    session: Session, *, customer_id: int | None
) -> tuple[ValueTier | None, RiskLevel | None]:
    """Tier and churn risk; a customer not scored yet is standard and low risk."""
    if customer_id is None:
        return None, None
    score = session.get(CustomerScore, customer_id)
    if score is None:
        return ValueTier.standard, RiskLevel.low
    return score.value_tier, score.churn_risk


def last_customer_sentiment(session: Session, *, conversation_id: int) -> float | None:
    """The sentiment of the customer's latest scored message."""
    return session.scalar(
        select(Message.sentiment)
        .where(
            Message.conversation_id == conversation_id,
            Message.sender == Sender.customer,
            Message.sentiment.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def agent_loads(session: Session, agent_ids: Collection[int]) -> dict[int, int]:
    """Conversations each agent holds or is waited for (queued or with an agent)."""
    if not agent_ids:
        return {}
    held = session.execute(
        select(Conversation.assigned_agent_id, Conversation.id).where(
            Conversation.assigned_agent_id.in_(agent_ids),
            Conversation.status.in_(BUSY_STATUSES),
        )
    ).all()
    # A conversation queued for a named agent counts before they accept it.
    waiting = session.execute(
        select(Escalation.target_agent_id, Escalation.conversation_id)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .where(
            Escalation.target_agent_id.in_(agent_ids),
            Escalation.status == EscalationStatus.queued,
            Conversation.status.in_(BUSY_STATUSES),
        )
    ).all()
    pairs = {(agent_id, conv_id) for agent_id, conv_id in [*held, *waiting]}
    counts = Counter(agent_id for agent_id, _ in pairs)
    return {agent_id: counts.get(agent_id, 0) for agent_id in agent_ids}


def servicing_agent(session: Session, *, customer_id: int) -> Agent | None:
    """The agent of the customer's open assignment (may be offline or departed)."""
    return session.scalars(
        select(Agent)
        .join(CustomerAssignment, CustomerAssignment.agent_id == Agent.id)
        .where(
            CustomerAssignment.customer_id == customer_id,
            CustomerAssignment.ended_at.is_(None),
        )
        .limit(1)
    ).first()


def _load(agent: Agent, loads: dict[int, int]) -> AgentLoad:
    return AgentLoad(
        agent_id=agent.id,
        name=agent.name,
        team_id=agent.team_id,
        active=agent.status == AgentStatus.active,
        online=agent.presence == Presence.online,
        load=loads.get(agent.id, 0),
        capacity=agent.capacity,
        skills=tuple(agent.skills or ()),
    )


def routing_inputs(
    session: Session, *, customer_id: int | None
) -> tuple[AgentLoad | None, list[TeamOption]]:
    """The servicing agent and every team with its online agents, with loads."""
    servicing = (
        servicing_agent(session, customer_id=customer_id)
        if customer_id is not None
        else None
    )
    teams = list(session.scalars(select(Team).order_by(Team.id)))
    online = list(
        session.scalars(
            select(Agent)
            .where(
                Agent.team_id.is_not(None),
                Agent.status == AgentStatus.active,
                Agent.presence == Presence.online,
            )
            .order_by(Agent.id)
        )
    )
    ids = {a.id for a in online} | ({servicing.id} if servicing else set())
    loads = agent_loads(session, ids)
    options = [
        TeamOption(
            team_id=team.id,
            name=team.name,
            topics=tuple(team.topics or ()),
            agents=tuple(_load(a, loads) for a in online if a.team_id == team.id),
        )
        for team in teams
    ]
    return (_load(servicing, loads) if servicing else None), options


def add_event(
    session: Session,
    escalation: Escalation,
    *,
    kind: str,
    note: str | None = None,
    actor_id: int | None = None,
) -> EscalationEvent:
    """Append a step to the escalation's log."""
    event = EscalationEvent(
        escalation_id=escalation.id, kind=kind, note=note, actor_id=actor_id
    )
    session.add(event)
    session.flush()
    return event


def queue_position(session: Session, escalation: Escalation) -> int | None:
    """1 + queued escalations for the same target ranked ahead (priority, then age)."""
    if escalation.status != EscalationStatus.queued:
        return None
    if escalation.target_agent_id is not None:
        same_target = Escalation.target_agent_id == escalation.target_agent_id
    elif escalation.target_team_id is not None:
        same_target = and_(
            Escalation.target_team_id == escalation.target_team_id,
            Escalation.target_agent_id.is_(None),
        )
    else:
        return None
    ahead_or_self = or_(
        Escalation.priority > escalation.priority,
        and_(
            Escalation.priority == escalation.priority,
            or_(
                Escalation.queued_at < escalation.queued_at,
                and_(
                    Escalation.queued_at == escalation.queued_at,
                    Escalation.id <= escalation.id,
                ),
            ),
        ),
    )
    count = session.scalar(
        select(func.count(Escalation.id)).where(
            Escalation.status == EscalationStatus.queued, same_target, ahead_or_self
        )
    )
    return int(count or 0)


def callback_due_at(escalation: Escalation) -> datetime | None:
    """The promised call-back time, when one was promised."""
    raw = (escalation.slots or {}).get(CALLBACK_KEY)
    return datetime.fromisoformat(raw) if raw else None


def waiting_minutes(escalation: Escalation, *, now: datetime | None = None) -> int:
    """Minutes in the queue: until assigned or closed, else until now."""
    end = escalation.assigned_at or escalation.closed_at or now or utcnow()
    return max(0, int((end - escalation.queued_at).total_seconds() // 60))


def close_open(
    session: Session, *, conversation_id: int, outcome: str
) -> list[Escalation]:
    """Close the conversation's open escalations with ``outcome``."""
    now = utcnow()
    closed = list(
        session.scalars(
            select(Escalation).where(
                Escalation.conversation_id == conversation_id,
                Escalation.status != EscalationStatus.closed,
            )
        )
    )
    for escalation in closed:
        escalation.status = EscalationStatus.closed
        escalation.closed_at = now
        escalation.outcome = outcome
        add_event(session, escalation, kind="closed", note=outcome)
    return closed


def record_csat(session: Session, *, escalation_id: int, score: int) -> Escalation:
    """Store the customer's 1-5 score, once, for a closed escalation."""
    escalation = get(session, escalation_id=escalation_id)
    if escalation.status != EscalationStatus.closed:
        raise Conflict(
            "Satisfaction can only be recorded after the escalation is closed",
            code="escalation_not_closed",
        )
    if escalation.csat is not None:
        raise Conflict("Satisfaction was already recorded", code="csat_recorded")
    escalation.csat = score
    escalation.csat_at = utcnow()
    add_event(session, escalation, kind="csat", note=f"满意度 {score} 分")
    return escalation


def list_for_agent(
    session: Session,
    *,
    agent: Agent,
    scope: Scope = "mine",
    status: EscalationStatus | None = None,
    limit: int = 100,
) -> tuple[list[Escalation], int]:
    """Escalations for the agent, their team, or (supervisors) everyone."""
    mine = or_(
        Escalation.target_agent_id == agent.id,
        Escalation.assigned_agent_id == agent.id,
    )
    if scope == "all":
        if not is_supervisor(agent):
            raise Forbidden("Only supervisors see every escalation")
        where = []
    else:
        visible = mine
        if scope == "team" and agent.team_id is not None:
            team_agents = select(Agent.id).where(Agent.team_id == agent.team_id)
            visible = or_(
                Escalation.target_team_id == agent.team_id,
                Escalation.target_agent_id.in_(team_agents),
                Escalation.assigned_agent_id.in_(team_agents),
            )
        where = [visible]
    if status is not None:
        where.append(Escalation.status == status)
    else:
        where.append(Escalation.status != EscalationStatus.closed)
    total = session.scalar(select(func.count(Escalation.id)).where(*where))
    rows = session.scalars(
        select(Escalation)
        .where(*where)
        .order_by(Escalation.priority.desc(), Escalation.queued_at, Escalation.id)
        .limit(max(1, min(limit, LIST_MAX)))
    )
    return list(rows), int(total or 0)
