"""Cross-domain agent operations: a sales agent's departure and the bulk hand-over."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from crm_backend.agents import assignments, auth, service
from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Unprocessable
from crm_backend.core.outbox import pending, presence_hint
from crm_backend.models import (
    Agent,
    CustomerAssignment,
    CustomerSignal,
    Policy,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentRole, AgentStatus, Presence, SignalKind

DEPARTURE_REASON = "agent_departed"
# Who may inherit a departed agent's book when no successor is named.
SUCCESSOR_ROLES = (AgentRole.sales_agent, AgentRole.account_manager)


@dataclass
class Departure:
    """What a departure changed."""

    agent_id: int
    departed_at: datetime
    customers_reassigned: int = 0
    policies_repointed: int = 0
    sessions_revoked: int = 0
    escalations_requeued: int = 0
    tickets_released: int = 0
    successors: dict[int, int] = field(default_factory=dict)


def _book(session: Session, *, agent_id: int) -> list[int]:
    """Customers the agent serves: open assignments, plus holders of policies they
    service who have no assignment at all (so no policy is left with a departed
    agent and no one to call)."""
    assigned = session.scalars(
        select(CustomerAssignment.customer_id)
        .where(
            CustomerAssignment.agent_id == agent_id,
            CustomerAssignment.ended_at.is_(None),
        )
        .order_by(CustomerAssignment.customer_id)
    ).all()
    unassigned = session.scalars(
        select(Policy.holder_id)
        .where(
            Policy.servicing_agent_id == agent_id,
            ~exists().where(
                CustomerAssignment.customer_id == Policy.holder_id,
                CustomerAssignment.ended_at.is_(None),
            ),
        )
        .distinct()
        .order_by(Policy.holder_id)
    ).all()
    return list(assigned) + list(unassigned)


def _team_successors(session: Session, *, leaver: Agent) -> list[Agent]:
    """Active sales agents / account managers of the leaver's team."""
    if leaver.team_id is None:
        return []
    return list(
        session.scalars(
            select(Agent)
            .where(
                Agent.team_id == leaver.team_id,
                Agent.id != leaver.id,
                Agent.status == AgentStatus.active,
                Agent.role.in_(SUCCESSOR_ROLES),
            )
            .order_by(Agent.id)
        )
    )


def _plan(
    session: Session, *, customers: list[int], successors: list[Agent]
) -> dict[int, int]:
    """customer id → new agent id, each customer to the least-loaded successor."""
    counts = assignments.open_assignment_counts(
        session, agent_ids=[a.id for a in successors]
    )
    heap = [(counts[a.id], a.id) for a in successors]
    heapq.heapify(heap)
    plan: dict[int, int] = {}
    for customer_id in customers:
        load, agent_id = heapq.heappop(heap)
        plan[customer_id] = agent_id
        heapq.heappush(heap, (load + 1, agent_id))
    return plan


def depart_agent(
    session: Session,
    *,
    agent_id: int,
    by: Agent,
    successor_id: int | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Departure:
    """Mark an agent departed and hand every customer of theirs to a successor.

    Nothing is deleted: old assignment rows get ``ended_at``, new ones are opened
    with reason ``agent_departed``; policies they serviced follow the customer; each
    customer gets an ``agent_departed`` signal and a fresh churn score.
    """
    from crm_backend.analytics.service import recompute

    now = now or utcnow()
    leaver = service.get_agent(session, agent_id=agent_id)
    if leaver.status == AgentStatus.departed:
        raise Conflict("This agent has already departed")
    if leaver.id == by.id:
        raise Conflict("An agent cannot record their own departure")
    if successor_id is not None:
        successor = service.get_agent(session, agent_id=successor_id)
        if successor.id == leaver.id:
            raise Unprocessable("The successor must be another agent")
        if successor.status != AgentStatus.active:
            raise Unprocessable("The successor has departed too")
        successors = [successor]
    else:
        successors = _team_successors(session, leaver=leaver)
    customers = _book(session, agent_id=leaver.id)
    if customers and not successors:
        # Checked before anything changes, so the request leaves no half-departure.
        raise Conflict(
            "No active sales agent or account manager in the team; name a successor"
        )

    result = Departure(agent_id=leaver.id, departed_at=now)
    leaver.status = AgentStatus.departed
    leaver.departed_at = now
    leaver.presence = Presence.offline
    leaver.presence_changed_at = now
    session.flush()
    result.sessions_revoked = auth.revoke_sessions(session, agent_id=leaver.id, now=now)
    # No customer waits for someone who has left: offers and chats go back to routing.
    from crm_backend.escalations.flows import requeue_agent_work

    result.escalations_requeued = requeue_agent_work(
        session, agent=leaver, now=now, settings=settings
    )
    # ...and their complaint tickets go back to the team's queue, nothing unowned
    from crm_backend.console.hub import tickets_hint
    from crm_backend.tickets.lifecycle import release_departed

    released = release_departed(session, leaver=leaver, actor=by, now=now)
    result.tickets_released = len(released)
    pending(session).hint(
        presence_hint(),
        *(tickets_hint(t.id, team_ids=[t.team_id]) for t in released),
    )
    plan = _plan(session, customers=customers, successors=successors)
    if plan:
        session.execute(
            update(CustomerAssignment)
            .where(
                CustomerAssignment.agent_id == leaver.id,
                CustomerAssignment.ended_at.is_(None),
            )
            .values(ended_at=now)
        )
        session.execute(
            insert(CustomerAssignment),
            [
                {
                    "customer_id": customer_id,
                    "agent_id": new_agent_id,
                    "reason": DEPARTURE_REASON,
                    "assigned_at": now,
                    "assigned_by_id": by.id,
                }
                for customer_id, new_agent_id in plan.items()
            ],
        )
    # Every holder of the leaver's policies has an open assignment now (their own
    # agent's, or the one just opened): point each policy at its holder's current
    # agent in one statement.
    holder_agent = (
        select(CustomerAssignment.agent_id)
        .where(
            CustomerAssignment.customer_id == Policy.holder_id,
            CustomerAssignment.ended_at.is_(None),
        )
        .scalar_subquery()
    )
    repointed = session.execute(
        update(Policy)
        .where(Policy.servicing_agent_id == leaver.id)
        .values(servicing_agent_id=holder_agent)
        .execution_options(synchronize_session="fetch")
    )
    result.policies_repointed = int(getattr(repointed, "rowcount", 0) or 0)
    if not plan:
        return result

    names = {a.id: a.name for a in successors}
    session.execute(
        insert(CustomerSignal),
        [
            {
                "customer_id": customer_id,
                "kind": SignalKind.agent_departed,
                "detail": f"服务人员{leaver.name}已离职，客户已转交{names[new_id]}",
                "created_at": now,
            }
            for customer_id, new_id in plan.items()
        ],
    )
    for customer_id in plan:
        recompute(session, customer_id=customer_id, now=now, settings=settings)

    result.customers_reassigned = len(plan)
    for new_id in plan.values():
        result.successors[new_id] = result.successors.get(new_id, 0) + 1
    return result
