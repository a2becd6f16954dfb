"""Per-agent and per-team authorisation: who may see which customer."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from crm_backend.core.errors import Forbidden
from crm_backend.models import (
    Agent,
    Conversation,
    CustomerAssignment,
    Escalation,
    Ticket,
)
from crm_backend.models.enums import AgentRole


def is_supervisor(agent: Agent) -> bool:
    """Supervisors see every queue, agent and customer."""
    return agent.role == AgentRole.supervisor


def ensure_supervisor(agent: Agent) -> None:
    """Raise ``Forbidden`` unless the agent is a supervisor."""
    if not is_supervisor(agent):
        raise Forbidden("Only a supervisor may do this")


def customer_access_clause(
    agent: Agent, customer_id: ColumnElement[int] | QueryableAttribute[int] | int
) -> ColumnElement[bool]:
    """SQL truth of "the agent may see this customer": theirs, their team's, or
    handed to either (escalation, ticket, chat). ``customer_id`` is a value or a
    column, so the same rule checks one customer and filters lists."""
    if is_supervisor(agent):
        return true()
    servicing = aliased(Agent)
    has_team = agent.team_id is not None
    same_team = (servicing.team_id == agent.team_id) if agent.team_id else false()
    own_or_team = (
        select(CustomerAssignment.id)
        .join(servicing, servicing.id == CustomerAssignment.agent_id)
        .where(
            CustomerAssignment.customer_id == customer_id,
            CustomerAssignment.ended_at.is_(None),
            or_(CustomerAssignment.agent_id == agent.id, same_team),
        )
    )
    team_clause = [Escalation.target_team_id == agent.team_id] if has_team else []
    escalated = select(Escalation.id).where(
        Escalation.customer_id == customer_id,
        or_(
            Escalation.assigned_agent_id == agent.id,
            Escalation.target_agent_id == agent.id,
            Escalation.offered_agent_id == agent.id,
            *team_clause,
        ),
    )
    ticket_team = [Ticket.team_id == agent.team_id] if has_team else []
    ticketed = select(Ticket.id).where(
        Ticket.customer_id == customer_id,
        or_(Ticket.assignee_id == agent.id, *ticket_team),
    )
    chatted = select(Conversation.id).where(
        Conversation.customer_id == customer_id,
        Conversation.assigned_agent_id == agent.id,
    )
    return or_(
        own_or_team.exists(), escalated.exists(), ticketed.exists(), chatted.exists()
    )


def can_access_customer(session: Session, agent: Agent, customer_id: int) -> bool:
    """True when the customer is the agent's, their team's, or handed to either."""
    if is_supervisor(agent):
        return True
    return bool(session.scalar(select(customer_access_clause(agent, customer_id))))


def ensure_can_access_customer(
    session: Session, agent: Agent, customer_id: int
) -> None:
    """Raise ``Forbidden`` unless the agent may see this customer."""
    if not can_access_customer(session, agent, customer_id):
        raise Forbidden("This customer is not assigned to you or your team")
