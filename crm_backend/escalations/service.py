"""Escalation queries and rules: routing inputs, queue position, CSAT, listings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.agents.load import agent_loads
from crm_backend.core.errors import Conflict, Forbidden, NotFound
from crm_backend.core.outbox import Hint, pending, queue_hint
from crm_backend.escalations.routing import AgentLoad, TeamOption
from crm_backend.models import (
    Agent,
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
    EscalationStatus,
    Presence,
    RiskLevel,
    Sender,
    ValueTier,
)

Scope = Literal["mine", "team", "all"]
# Who has had the offer since the escalation was (re)routed: never offered again.
HAD_OFFER_KINDS = ("offer_expired", "declined", "released")
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
    """1 + queued escalations for the same target ranked ahead (``rank_at``, id)."""
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
        Escalation.rank_at < escalation.rank_at,
        and_(Escalation.rank_at == escalation.rank_at, Escalation.id <= escalation.id),
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
    """Minutes in the queue since queued (or last transferred): until accepted or
    closed, else until now."""
    start = escalation.transferred_at or escalation.queued_at
    end = escalation.assigned_at or escalation.closed_at or now or utcnow()
    return max(0, int((end - start).total_seconds() // 60))


def queue_score(escalation: Escalation, *, now: datetime | None = None) -> int:
    """Priority plus minutes waited: the number the queue is ordered by."""
    return escalation.priority + waiting_minutes(escalation, now=now)


def had_offer(session: Session, escalation: Escalation) -> set[int]:
    """Agents who let the offer expire, declined or were released from it since
    the escalation was last transferred (or requeued)."""
    since = session.scalar(
        select(func.max(EscalationEvent.id)).where(
            EscalationEvent.escalation_id == escalation.id,
            EscalationEvent.kind.in_(("transferred", "requeued")),
        )
    )
    query = select(EscalationEvent.actor_id).where(
        EscalationEvent.escalation_id == escalation.id,
        EscalationEvent.kind.in_(HAD_OFFER_KINDS),
        EscalationEvent.actor_id.is_not(None),
    )
    if since is not None:
        query = query.where(EscalationEvent.id > since)
    return {agent_id for agent_id in session.scalars(query) if agent_id is not None}


def audience(session: Session, escalation: Escalation, *extra: int | None) -> Hint:
    """The queue hint for everyone who sees this escalation in a queue."""
    agent_ids = {
        escalation.target_agent_id,
        escalation.offered_agent_id,
        escalation.assigned_agent_id,
        *extra,
    }
    team_ids = {escalation.target_team_id}
    for agent_id in agent_ids:
        agent = session.get(Agent, agent_id) if agent_id is not None else None
        if agent is not None:
            team_ids.add(agent.team_id)
    return queue_hint(agent_ids=agent_ids, team_ids=team_ids)


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
        hint = audience(session, escalation)
        escalation.status = EscalationStatus.closed
        escalation.closed_at = now
        escalation.outcome = outcome
        clear_offer(escalation)
        add_event(session, escalation, kind="closed", note=outcome)
        pending(session).hint(hint)
    return closed


def clear_offer(escalation: Escalation) -> None:
    """The escalation is offered to nobody."""
    escalation.offered_agent_id = None
    escalation.offered_at = None
    escalation.offer_expires_at = None


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
    """Escalations for the agent, their team, or (supervisors) everyone, in queue
    order (``rank_at``: priority plus minutes waited)."""
    mine = or_(
        Escalation.target_agent_id == agent.id,
        Escalation.offered_agent_id == agent.id,
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
                Escalation.offered_agent_id.in_(team_agents),
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
        .order_by(Escalation.rank_at, Escalation.id)
        .limit(max(1, min(limit, LIST_MAX)))
    )
    return list(rows), int(total or 0)
