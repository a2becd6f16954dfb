"""Escalation flows across domains: escalate a conversation (route and offer),
close one, and re-queue a departing agent's work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.conversations import chat
from crm_backend.conversations import service as conversations
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.outbox import pending
from crm_backend.escalations import offers, routing, service
from crm_backend.escalations.schemas import EscalationCreate
from crm_backend.models import Agent, Conversation, Escalation, Team
from crm_backend.models.base import utcnow
from crm_backend.models.enums import ConversationStatus, EscalationStatus


@dataclass(frozen=True)
class Escalated:
    """The escalation and whether it already existed."""

    escalation: Escalation
    existing: bool


def escalate(
    session: Session,
    *,
    escalation_in: EscalationCreate,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Escalated:
    """Hand a bot conversation to people: prioritise, route, queue, offer."""
    settings = settings or get_settings()
    # Row lock so that two concurrent requests cannot both escalate (PostgreSQL).
    conversation = session.scalars(
        select(Conversation)
        .where(Conversation.id == escalation_in.conversation_id)
        .with_for_update()
    ).first()
    if conversation is None:
        raise NotFound("Conversation not found")
    if conversation.status == ConversationStatus.closed:
        raise Conflict("The conversation is closed", code="conversation_closed")
    if conversation.status != ConversationStatus.bot:
        existing = service.open_for_conversation(
            session, conversation_id=conversation.id
        )
        if existing is None:
            raise Conflict(
                "The conversation is already with an agent", code="already_with_agent"
            )
        return Escalated(existing, existing=True)

    customer_id = conversation.customer_id
    tier, churn = service.standing(session, customer_id=customer_id)
    sentiment = escalation_in.sentiment
    if sentiment is None:
        sentiment = service.last_customer_sentiment(
            session, conversation_id=conversation.id
        )
    points, reasons = routing.priority(
        tier=tier, churn=churn, trigger=escalation_in.trigger, sentiment=sentiment
    )
    topic = routing.topic_for(
        explicit=escalation_in.topic, trigger=escalation_in.trigger, tier=tier
    )
    servicing, teams = service.routing_inputs(session, customer_id=customer_id)
    route = routing.choose_route(topic=topic, servicing=servicing, teams=teams)

    now = now or utcnow()
    slots = {k: v for k, v in escalation_in.slots.items() if k != service.CALLBACK_KEY}
    if route.callback:
        slots[service.CALLBACK_KEY] = routing.callback_due(now).isoformat()
    escalation = Escalation(
        conversation_id=conversation.id,
        customer_id=customer_id,
        trigger=escalation_in.trigger,
        reason=escalation_in.reason,
        topic=topic,
        priority=points,
        priority_reasons=reasons,
        slots=slots,
        target_agent_id=route.agent_id,
        target_team_id=route.team_id,
        status=EscalationStatus.queued,
        queued_at=now,
    )
    session.add(escalation)
    session.flush()
    label = routing.TRIGGER_LABELS[escalation_in.trigger]
    service.add_event(
        session,
        escalation,
        kind="queued",
        note=f"触发：{label}（{escalation_in.reason}）；路由：{route.note}",
    )
    conversation.status = ConversationStatus.queued
    session.flush()
    offered = (
        session.get(Agent, route.offer_agent_id)
        if route.offer_agent_id is not None
        else None
    )
    if offered is not None:
        offers.offer(session, escalation, offered, now=now, settings=settings)
    pending(session).hint(service.audience(session, escalation))
    return Escalated(escalation, existing=False)


def close_conversation(session: Session, *, conversation_id: int) -> Conversation:
    """Close a conversation and, with it, any escalation still open."""
    conversation = conversations.close(session, conversation_id=conversation_id)
    service.close_open(
        session, conversation_id=conversation.id, outcome="conversation_closed"
    )
    session.flush()
    return conversation


def _team_for(session: Session, leaver: Agent, topic: str) -> int | None:
    """The leaver's team when it takes the topic, else None (route by topic)."""
    team = session.get(Team, leaver.team_id) if leaver.team_id is not None else None
    if team is not None and topic in (team.topics or ()):
        return team.id
    return None


def requeue_agent_work(
    session: Session,
    *,
    agent: Agent,
    now: datetime,
    settings: Settings | None = None,
) -> int:
    """A departing agent's offers, held conversations and named queue go back to
    routing (their team first), so no customer waits for someone who has left.
    Returns how many escalations moved."""
    settings = settings or get_settings()
    moved = 0
    open_ = session.scalars(
        select(Escalation)
        .where(
            Escalation.status != EscalationStatus.closed,
            (Escalation.offered_agent_id == agent.id)
            | (Escalation.assigned_agent_id == agent.id)
            | (Escalation.target_agent_id == agent.id),
        )
        .order_by(Escalation.rank_at, Escalation.id)
    ).all()
    for escalation in open_:
        moved += 1
        note = f"{agent.name}已离职，重新排队"
        if escalation.status == EscalationStatus.queued:
            if escalation.target_agent_id == agent.id:
                escalation.target_agent_id = None
                escalation.target_team_id = _team_for(session, agent, escalation.topic)
            if escalation.offered_agent_id == agent.id:
                offers.pass_on(
                    session,
                    escalation,
                    kind="released",
                    now=now,
                    settings=settings,
                    note=note,
                )
            else:
                service.add_event(session, escalation, kind="requeued", note=note)
                offers.offer_next(
                    session, escalation, now=now, settings=settings, exclude={agent.id}
                )
            continue
        hint = service.audience(session, escalation)
        conversation = conversations.get(
            session, conversation_id=escalation.conversation_id
        )
        escalation.status = EscalationStatus.queued
        escalation.assigned_agent_id = None
        escalation.assigned_at = None
        escalation.transferred_at = now
        escalation.target_agent_id = None
        escalation.target_team_id = _team_for(session, agent, escalation.topic)
        conversation.status = ConversationStatus.queued
        conversation.assigned_agent_id = None
        service.add_event(session, escalation, kind="requeued", note=note)
        chat.system_notice(
            session,
            conversation,
            "为您服务的客服暂时无法继续接待，正在为您转接其他客服，请稍候。",
        )
        pending(session).hint(hint)
        offers.offer_next(
            session, escalation, now=now, settings=settings, exclude={agent.id}
        )
    return moved
