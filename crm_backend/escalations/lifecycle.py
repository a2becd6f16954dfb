"""An agent's verbs on an escalation: accept, decline, transfer, resolve, close.

Each verb checks that the agent may act on the escalation (``may_act``: theirs,
their team's, their own customer's, or a supervisor), sets its ``<state>_at``,
appends an event, writes what the customer should read as a system notice, and
queues the gateway events and console hints for after the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.conversations import chat
from crm_backend.conversations import service as conversations
from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.core.gateway import handback_event
from crm_backend.core.outbox import pending, presence_hint
from crm_backend.escalations import offers, service
from crm_backend.escalations.schemas import OUTCOME_LABELS, TransferCreate
from crm_backend.models import Agent, Conversation, Escalation, Team
from crm_backend.models.enums import (
    AgentStatus,
    ConversationStatus,
    EscalationOutcome,
    EscalationStatus,
    Presence,
)


def joined_notice(agent: Agent) -> str:
    """What the customer reads when an agent accepts."""
    return f"客服{agent.name}（工号{agent.employee_no}）已接入，为您服务。"


def may_act(session: Session, agent: Agent, escalation: Escalation) -> bool:
    """Offered, targeted or held by the agent or their team; the agent's own
    customer; or the agent is a supervisor."""
    if is_supervisor(agent):
        return True
    involved = {
        escalation.target_agent_id,
        escalation.offered_agent_id,
        escalation.assigned_agent_id,
    }
    if agent.id in involved:
        return True
    if agent.team_id is not None:
        teams = {escalation.target_team_id}
        for agent_id in involved - {None}:
            other = session.get(Agent, agent_id)
            teams.add(other.team_id if other is not None else None)
        if agent.team_id in teams:
            return True
    if escalation.customer_id is not None:
        servicing = service.servicing_agent(session, customer_id=escalation.customer_id)
        return servicing is not None and servicing.id == agent.id
    return False


def _load(session: Session, escalation_id: int, agent: Agent) -> Escalation:
    escalation = service.get(session, escalation_id=escalation_id)
    if not may_act(session, agent, escalation):
        raise Forbidden(
            "This conversation is not yours or your team's", code="not_your_escalation"
        )
    if escalation.status == EscalationStatus.closed:
        raise Conflict("The escalation is already closed", code="escalation_closed")
    return escalation


def _ensure_holder_or_queued(agent: Agent, escalation: Escalation) -> None:
    # An accepted conversation is the holder's (or a supervisor's) to hand on.
    if (
        escalation.status == EscalationStatus.active
        and escalation.assigned_agent_id != agent.id
        and not is_supervisor(agent)
    ):
        raise Forbidden(
            "Only the agent holding the conversation may do this", code="not_holder"
        )


def _conversation(session: Session, escalation: Escalation) -> Conversation:
    return conversations.get(session, conversation_id=escalation.conversation_id)


def accept(
    session: Session, *, escalation_id: int, agent: Agent, now: datetime
) -> Escalation:
    """Take the conversation: exactly one agent wins (conditional UPDATE)."""
    escalation = _load(session, escalation_id, agent)
    before = service.audience(session, escalation)
    won = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.status == EscalationStatus.queued,
        )
        .values(
            status=EscalationStatus.active,
            assigned_agent_id=agent.id,
            assigned_at=now,
            accepted_at=now,
            offered_agent_id=None,
            offered_at=None,
            offer_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) != 1:
        raise Conflict(
            "Another agent has already accepted this conversation",
            code="already_accepted",
        )
    session.refresh(escalation)
    conversation = _conversation(session, escalation)
    conversation.status = ConversationStatus.agent
    conversation.assigned_agent_id = agent.id
    service.add_event(session, escalation, kind="accepted", actor_id=agent.id)
    chat.system_notice(session, conversation, joined_notice(agent))
    pending(session).hint(
        before, service.audience(session, escalation), presence_hint()
    )
    return escalation


def decline(
    session: Session,
    *,
    escalation_id: int,
    agent: Agent,
    now: datetime,
    settings: Settings,
) -> Escalation:
    """Pass an offer on to the next agent."""
    escalation = _load(session, escalation_id, agent)
    if (
        escalation.status != EscalationStatus.queued
        or escalation.offered_agent_id != agent.id
    ):
        raise Conflict("This conversation is not offered to you", code="not_offered")
    offers.pass_on(
        session,
        escalation,
        kind="declined",
        now=now,
        settings=settings,
        note=f"{agent.name}暂不接入",
    )
    return escalation


def _transfer_target(
    session: Session, agent: Agent, transfer_in: TransferCreate
) -> tuple[Agent | None, Team | None, str]:
    if transfer_in.agent_id is not None:
        target = session.get(Agent, transfer_in.agent_id)
        if target is None:
            raise NotFound("Agent not found")
        if target.id == agent.id:
            raise Unprocessable("Transfer to someone else", code="transfer_to_self")
        if target.status != AgentStatus.active:
            raise Unprocessable("This agent has left", code="agent_departed")
        if target.presence != Presence.online:
            raise Conflict("This agent is not online", code="agent_not_online")
        return target, None, f"客服{target.name}（工号{target.employee_no}）"
    team = session.get(Team, transfer_in.team_id)
    if team is None:
        raise NotFound("Team not found")
    return None, team, team.name


def transfer(
    session: Session,
    *,
    escalation_id: int,
    agent: Agent,
    transfer_in: TransferCreate,
    now: datetime,
    settings: Settings,
) -> Escalation:
    """Queue the conversation again for another agent or team, with a note."""
    escalation = _load(session, escalation_id, agent)
    _ensure_holder_or_queued(agent, escalation)
    target, team, label = _transfer_target(session, agent, transfer_in)
    conversation = _conversation(session, escalation)
    before = service.audience(session, escalation, agent.id)
    escalation.status = EscalationStatus.queued
    escalation.assigned_agent_id = None
    escalation.assigned_at = None
    escalation.transferred_at = now
    service.clear_offer(escalation)
    conversation.status = ConversationStatus.queued
    conversation.assigned_agent_id = None
    service.add_event(
        session,
        escalation,
        kind="transferred",
        actor_id=agent.id,
        note=f"转给{label}：{transfer_in.note}",
    )
    chat.write_note(
        session,
        conversation,
        agent=agent,
        text=f"【转接给{label}】{transfer_in.note}",
        payload={"kind": "transfer_note", "escalation_id": escalation.id},
    )
    chat.system_notice(session, conversation, f"正在为您转接{label}，请稍候。")
    if target is not None:
        escalation.target_agent_id = target.id
        escalation.target_team_id = None
        offers.offer(session, escalation, target, now=now, settings=settings)
    else:
        assert team is not None
        escalation.target_agent_id = None
        escalation.target_team_id = team.id
        offers.offer_next(
            session, escalation, now=now, settings=settings, exclude={agent.id}
        )
    pending(session).hint(
        before, service.audience(session, escalation), presence_hint()
    )
    return escalation


def _finish(
    session: Session,
    escalation: Escalation,
    *,
    now: datetime,
    outcome: str,
    note: str | None,
) -> None:
    hint = service.audience(session, escalation)
    escalation.status = EscalationStatus.closed
    escalation.closed_at = now
    escalation.outcome = outcome
    escalation.resolution_note = note
    service.clear_offer(escalation)
    pending(session).hint(hint, presence_hint())


def resolve(
    session: Session,
    *,
    escalation_id: int,
    agent: Agent,
    outcome: EscalationOutcome,
    note: str | None,
    now: datetime,
) -> Escalation:
    """Done: the bot takes the conversation back (``handback``) and asks for CSAT."""
    escalation = _load(session, escalation_id, agent)
    _ensure_holder_or_queued(agent, escalation)
    conversation = _conversation(session, escalation)
    served_by = session.get(Agent, escalation.assigned_agent_id or agent.id)
    _finish(session, escalation, now=now, outcome=outcome, note=note)
    escalation.resolved_at = now
    escalation.resolved_by_id = agent.id
    label = OUTCOME_LABELS[outcome]
    service.add_event(
        session,
        escalation,
        kind="resolved",
        actor_id=agent.id,
        note=f"{label}：{note}" if note else label,
    )
    name = served_by.name if served_by else agent.name
    chat.system_notice(
        session,
        conversation,
        f"客服{name}已结束本次人工服务。",
    )
    conversation.status = ConversationStatus.bot
    conversation.assigned_agent_id = None
    pending(session).event(
        handback_event(conversation, escalation_id=escalation.id, agent=served_by)
    )
    return escalation


def close(
    session: Session,
    *,
    escalation_id: int,
    agent: Agent,
    outcome: EscalationOutcome | None,
    note: str | None,
    now: datetime,
) -> Escalation:
    """End the conversation itself (the customer left, spam…): no hand-back."""
    escalation = _load(session, escalation_id, agent)
    _ensure_holder_or_queued(agent, escalation)
    conversation = _conversation(session, escalation)
    chat.system_notice(
        session,
        conversation,
        "本次会话已结束，感谢您的咨询。如需帮助，欢迎随时联系我们。",
    )
    _finish(
        session, escalation, now=now, outcome=outcome or "closed_by_agent", note=note
    )
    service.add_event(session, escalation, kind="closed", actor_id=agent.id, note=note)
    conversations.close(session, conversation_id=conversation.id)
    conversation.assigned_agent_id = None
    return escalation
