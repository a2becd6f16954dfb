"""Escalation views: the bot's answer (with the notice for the customer) and the
console's queue rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm_backend.conversations.views import agent_ref
from crm_backend.core.masking import mask_name
from crm_backend.escalations import routing, service
from crm_backend.escalations.schemas import (
    EscalationListItem,
    EscalationRead,
    PriorityReason,
    TeamRef,
)
from crm_backend.escalations.wait import estimate as wait_estimate
from crm_backend.models import Agent, Customer, Escalation, Message, Team
from crm_backend.models.base import utcnow
from crm_backend.models.enums import EscalationStatus


def team_ref(session: Session, team_id: int | None) -> TeamRef | None:
    """The desk behind an id, for views."""
    team = session.get(Team, team_id) if team_id is not None else None
    return TeamRef.model_validate(team) if team is not None else None


def _notice(
    session: Session, escalation: Escalation, position: int | None, wait: int | None
) -> str:
    """What the bot tells the customer about who will serve them, and when."""
    agent = (
        session.get(Agent, escalation.target_agent_id)
        if escalation.target_agent_id is not None
        else None
    )
    team = team_ref(session, escalation.target_team_id)
    due = service.callback_due_at(escalation)
    if escalation.status == EscalationStatus.closed:
        return "本次人工服务已结束，感谢您的耐心。"
    if escalation.status != EscalationStatus.queued:
        return "人工客服正在为您服务。"
    if due is not None:
        who = agent.name if agent else (team.name if team else "我们的客服人员")
        when = routing.describe_time(due, now=utcnow())
        return f"现在暂时没有人工客服在线，已为您登记回电：{who}将在{when}前与您联系。"
    if agent is not None:
        head = f"正在为您转接专属服务人员{agent.name}（工号{agent.employee_no}）"
    else:
        head = f"正在为您转接{team.name if team else '人工客服'}"
    if position is None or wait is None:
        return f"{head}，请稍候。"
    ahead = position - 1
    if ahead == 0:
        return f"{head}，您是下一位，预计等待约{wait}分钟，请稍候。"
    return f"{head}，您前面还有{ahead}位客户，预计等待约{wait}分钟，请稍候。"


def to_read(
    session: Session, escalation: Escalation, *, existing: bool = False
) -> EscalationRead:
    """The bot's view of an escalation, with the notice for the customer."""
    due = service.callback_due_at(escalation)
    position = service.queue_position(session, escalation)
    wait = (
        wait_estimate(session, escalation, position)
        if position is not None and due is None
        else None
    )
    return EscalationRead(
        id=escalation.id,
        conversation_id=escalation.conversation_id,
        customer_id=escalation.customer_id,
        status=escalation.status,
        existing=existing,
        trigger=escalation.trigger,
        reason=escalation.reason,
        topic=escalation.topic,
        priority=escalation.priority,
        priority_reasons=[PriorityReason(**r) for r in escalation.priority_reasons],
        target_agent=agent_ref(session, escalation.target_agent_id),
        target_team=team_ref(session, escalation.target_team_id),
        offered_agent=agent_ref(session, escalation.offered_agent_id),
        assigned_agent=agent_ref(session, escalation.assigned_agent_id),
        queue_position=position,
        estimated_wait_minutes=wait,
        callback=due is not None,
        callback_due_at=due,
        notice=_notice(session, escalation, position, wait),
        queued_at=escalation.queued_at,
        assigned_at=escalation.assigned_at,
        closed_at=escalation.closed_at,
        outcome=escalation.outcome,
        csat=escalation.csat,
        csat_at=escalation.csat_at,
    )


def _names(
    session: Session,
    id_col: InstrumentedAttribute[int],
    name_col: InstrumentedAttribute[str],
    ids: set[int],
) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(id_col, name_col).where(id_col.in_(ids)))
    return {row_id: name for row_id, name in rows}


PREVIEW_CHARS = 60


def preview(text: str, *, limit: int = PREVIEW_CHARS) -> str:
    """One line of at most ``limit`` characters (an ellipsis marks the cut)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _shown_text(message: Message) -> str:
    # a clicked quick reply was recorded as its payload; the customer saw the label
    metadata = (message.payload or {}).get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("display"), str):
        return str(metadata["display"])
    return message.text


def _last_message_fields(message: Message | None) -> dict[str, Any]:
    if message is None:
        return {}
    return {
        "last_message_preview": preview(_shown_text(message)),
        "last_message_sender": message.sender,
        "last_message_at": message.created_at,
    }


def last_messages(session: Session, conversation_ids: set[int]) -> dict[int, Message]:
    """Each conversation's latest message that is not a private note (one query)."""
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.private.is_(False),
        )
        .group_by(Message.conversation_id)
    )
    rows = session.scalars(select(Message).where(Message.id.in_(latest)))
    return {m.conversation_id: m for m in rows}


def to_list_items(
    session: Session, escalations: list[Escalation]
) -> list[EscalationListItem]:
    """Console rows, with masked customer names, target names and each
    conversation's latest message loaded in bulk."""
    customer_ids = {e.customer_id for e in escalations if e.customer_id is not None}
    agent_ids = {
        agent_id
        for e in escalations
        for agent_id in (e.target_agent_id, e.offered_agent_id, e.assigned_agent_id)
        if agent_id
    }
    team_ids = {e.target_team_id for e in escalations if e.target_team_id}
    names = _names(session, Customer.id, Customer.name, customer_ids)
    agents = _names(session, Agent.id, Agent.name, agent_ids)
    teams = _names(session, Team.id, Team.name, team_ids)
    last = last_messages(session, {e.conversation_id for e in escalations})
    now = utcnow()
    return [
        EscalationListItem(
            id=e.id,
            conversation_id=e.conversation_id,
            status=e.status,
            priority=e.priority,
            trigger=e.trigger,
            trigger_label=routing.TRIGGER_LABELS[e.trigger],
            topic=e.topic,
            customer_id=e.customer_id,
            customer_name=mask_name(names.get(e.customer_id or -1)),
            target_agent_id=e.target_agent_id,
            target_agent_name=agents.get(e.target_agent_id or -1),
            target_team_id=e.target_team_id,
            target_team_name=teams.get(e.target_team_id or -1),
            offered_agent_id=e.offered_agent_id,
            offered_agent_name=agents.get(e.offered_agent_id or -1),
            offer_expires_at=e.offer_expires_at,
            assigned_agent_id=e.assigned_agent_id,
            assigned_agent_name=agents.get(e.assigned_agent_id or -1),
            queued_at=e.queued_at,
            waiting_minutes=service.waiting_minutes(e, now=now),
            queue_score=service.queue_score(e, now=now),
            callback=service.callback_due_at(e) is not None,
            callback_due_at=service.callback_due_at(e),
            **_last_message_fields(last.get(e.conversation_id)),
        )
        for e in escalations
    ]
