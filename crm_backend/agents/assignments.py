"""Customer assignment: which agent serves a customer now, and the history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_backend.agents.schemas import AssignmentRead
from crm_backend.agents.service import get_agent
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.models import Agent, Customer, CustomerAssignment, Policy
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus


def open_assignment_counts(
    session: Session, *, agent_ids: Iterable[int]
) -> dict[int, int]:
    """How many customers each agent currently serves."""
    ids = list(agent_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(CustomerAssignment.agent_id, func.count())
        .where(
            CustomerAssignment.agent_id.in_(ids),
            CustomerAssignment.ended_at.is_(None),
        )
        .group_by(CustomerAssignment.agent_id)
    ).all()
    counts = dict.fromkeys(ids, 0)
    counts.update(dict(rows))
    return counts


def current_assignment(
    session: Session, *, customer_id: int, for_update: bool = False
) -> CustomerAssignment | None:
    """The customer's open assignment, if any."""
    query = select(CustomerAssignment).where(
        CustomerAssignment.customer_id == customer_id,
        CustomerAssignment.ended_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def assign_customer(
    session: Session,
    *,
    customer_id: int,
    agent_id: int,
    reason: str,
    by_agent_id: int | None = None,
    now: datetime | None = None,
) -> CustomerAssignment:
    """Close the customer's open assignment and open one with ``agent_id``.

    The history stays: the old row only gets ``ended_at``. The customer's policies
    serviced by the previous agent follow the customer to the new one. Assigning
    the agent the customer already has changes nothing.
    """
    now = now or utcnow()
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    agent = get_agent(session, agent_id=agent_id)
    if agent.status != AgentStatus.active:
        raise Conflict("A departed agent cannot take customers")
    current = current_assignment(session, customer_id=customer_id, for_update=True)
    if current is not None and current.agent_id == agent_id:
        return current
    if current is not None:
        current.ended_at = now
        # The partial unique index allows one open row: close before opening.
        session.flush()
        session.execute(
            update(Policy)
            .where(
                Policy.holder_id == customer_id,
                Policy.servicing_agent_id == current.agent_id,
            )
            .values(servicing_agent_id=agent_id)
        )
    assignment = CustomerAssignment(
        customer_id=customer_id,
        agent_id=agent_id,
        reason=reason,
        assigned_at=now,
        assigned_by_id=by_agent_id,
    )
    session.add(assignment)
    session.flush()
    return assignment


def list_assignments(session: Session, *, customer_id: int) -> list[AssignmentRead]:
    """The customer's assignment history, newest first."""
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    rows = session.execute(
        select(CustomerAssignment, Agent.name)
        .join(Agent, Agent.id == CustomerAssignment.agent_id)
        .where(CustomerAssignment.customer_id == customer_id)
        .order_by(CustomerAssignment.assigned_at.desc(), CustomerAssignment.id.desc())
    ).all()
    return [_assignment_read(a, name) for a, name in rows]


def _assignment_read(assignment: CustomerAssignment, agent_name: str) -> AssignmentRead:
    return AssignmentRead(
        id=assignment.id,
        customer_id=assignment.customer_id,
        agent_id=assignment.agent_id,
        agent_name=agent_name,
        reason=assignment.reason,
        assigned_at=assignment.assigned_at,
        ended_at=assignment.ended_at,
        assigned_by_id=assignment.assigned_by_id,
    )


def read_assignment(
    session: Session, *, assignment: CustomerAssignment
) -> AssignmentRead:
    """One assignment with its agent's name."""
    agent = get_agent(session, agent_id=assignment.agent_id)
    return _assignment_read(assignment, agent.name)
