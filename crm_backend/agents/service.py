"""Agents: login sessions, presence, the directory, teams and customer assignment."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_backend.agents.access import is_supervisor
from crm_backend.agents.load import agent_loads
from crm_backend.agents.schemas import (
    AgentDirectoryRead,
    AssignmentRead,
    MeRead,
    TeamBrief,
    TeamRead,
)
from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, Locked, NotFound, Unauthorized
from crm_backend.core.security import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from crm_backend.models import (
    Agent,
    AgentSession,
    Customer,
    CustomerAssignment,
    Policy,
    Team,
    VerificationAttempt,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentStatus,
    Presence,
    VerificationMethod,
)

LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
BAD_CREDENTIALS = "Wrong employee number or password"


@lru_cache
def _dummy_hash() -> str:
    # Verifying against a real hash for unknown employee numbers keeps the answer
    # time the same, so timing does not tell which employee numbers exist.
    return hash_password("not-a-real-password")


def login_subject(employee_no: str) -> str:
    """The ``VerificationAttempt.subject`` that counts an employee number's logins."""
    return f"agent-login:{employee_no}"


def ensure_login_allowed(
    session: Session,
    *,
    employee_no: str,
    now: datetime,
    max_failures: int = LOGIN_MAX_FAILURES,
    window: timedelta = LOGIN_WINDOW,
) -> None:
    """Raise ``Locked`` after ``max_failures`` failed logins within ``window``."""
    subject = login_subject(employee_no)
    since = now - window
    # A success resets the count: only failures after the latest success matter.
    last_success = session.scalar(
        select(func.max(VerificationAttempt.created_at)).where(
            VerificationAttempt.subject == subject,
            VerificationAttempt.success.is_(True),
            VerificationAttempt.created_at >= since,
        )
    )
    conditions = [
        VerificationAttempt.subject == subject,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.created_at >= since,
    ]
    if last_success is not None:
        conditions.append(VerificationAttempt.created_at > last_success)
    count, oldest = session.execute(
        select(func.count(), func.min(VerificationAttempt.created_at)).where(
            *conditions
        )
    ).one()
    if count >= max_failures:
        retry_at = (oldest or now) + window
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        raise Locked(
            f"Too many failed logins; try again in {minutes} minutes",
            retry_after_minutes=minutes,
        )


def record_login_attempt(
    session: Session, *, employee_no: str, success: bool, now: datetime
) -> None:
    """Append one login attempt (success or failure) for the brute-force limit."""
    session.add(
        VerificationAttempt(
            subject=login_subject(employee_no),
            method=VerificationMethod.agent_password,
            success=success,
            created_at=now,
        )
    )
    session.flush()


def login(
    session: Session,
    *,
    employee_no: str,
    password: str,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[str, AgentSession, Agent]:
    """Check the password and open a session; returns (token, session row, agent).

    A failure is recorded before ``Unauthorized`` is raised: the caller must keep
    the transaction (the endpoint answers the error without rolling back).
    """
    now = now or utcnow()
    ensure_login_allowed(session, employee_no=employee_no, now=now)
    agent = session.scalar(select(Agent).where(Agent.employee_no == employee_no))
    stored = agent.password_hash if agent is not None else None
    valid = verify_password(stored or _dummy_hash(), password) and stored is not None
    if agent is None or not valid:
        record_login_attempt(session, employee_no=employee_no, success=False, now=now)
        raise Unauthorized(BAD_CREDENTIALS, code="bad_credentials", keep_changes=True)
    if agent.status != AgentStatus.active:
        raise Forbidden("This account is no longer active", code="agent_departed")
    record_login_attempt(session, employee_no=employee_no, success=True, now=now)
    token = new_token()
    row = AgentSession(
        agent_id=agent.id,
        token_hash=token_digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=settings.agent_session_hours),
    )
    session.add(row)
    session.flush()
    return token, row, agent


def logout(
    session: Session, *, agent: Agent, token: str, now: datetime | None = None
) -> None:
    """Revoke the session of ``token``; with no live session left, go offline."""
    now = now or utcnow()
    session.execute(
        update(AgentSession)
        .where(
            AgentSession.token_hash == token_digest(token),
            AgentSession.agent_id == agent.id,
            AgentSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    live = session.scalar(
        select(func.count()).where(
            AgentSession.agent_id == agent.id,
            AgentSession.revoked_at.is_(None),
            AgentSession.expires_at > now,
        )
    )
    # Routing must not offer chats to someone who closed their last console.
    if not live and agent.presence != Presence.offline:
        set_presence(session, agent=agent, presence=Presence.offline, now=now)
    session.flush()


def revoke_sessions(session: Session, *, agent_id: int, now: datetime) -> int:
    """Revoke every live session of an agent; returns how many."""
    result = session.execute(
        update(AgentSession)
        .where(AgentSession.agent_id == agent_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_agent(session: Session, *, agent_id: int) -> Agent:
    """The agent, or ``NotFound``."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("Agent not found")
    return agent


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


def set_presence(
    session: Session, *, agent: Agent, presence: Presence, now: datetime | None = None
) -> Agent:
    """Change the agent's presence (online / away / offline)."""
    if agent.status != AgentStatus.active:
        raise Conflict("A departed agent has no presence")
    if agent.presence != presence or agent.presence_changed_at is None:
        agent.presence = presence
        agent.presence_changed_at = now or utcnow()
        session.flush()
    return agent


def me(session: Session, *, agent: Agent) -> MeRead:
    """The agent's own view: profile, team, presence, capacity and load."""
    team = session.get(Team, agent.team_id) if agent.team_id else None
    view = MeRead.model_validate(agent)
    view.team = TeamBrief.model_validate(team) if team else None
    view.load = agent_loads(session, [agent.id])[agent.id]
    return view


def _directory(
    session: Session, rows: Sequence[tuple[Agent, Team | None]]
) -> list[AgentDirectoryRead]:
    loads = agent_loads(session, [a.id for a, _ in rows])
    return [
        AgentDirectoryRead(
            id=a.id,
            name=a.name,
            role=a.role,
            team_id=a.team_id,
            team_name=t.name if t else None,
            skills=list(a.skills or []),
            presence=a.presence,
            load=loads[a.id],
            capacity=a.capacity,
        )
        for a, t in rows
    ]


def list_agents(
    session: Session, *, team_id: int | None = None, presence: Presence | None = None
) -> list[AgentDirectoryRead]:
    """Active agents (all teams: every agent may transfer to any colleague)."""
    query = (
        select(Agent, Team)
        .outerjoin(Team, Team.id == Agent.team_id)
        .where(Agent.status == AgentStatus.active)
        .order_by(Team.name, Agent.name, Agent.id)
    )
    if team_id is not None:
        query = query.where(Agent.team_id == team_id)
    if presence is not None:
        query = query.where(Agent.presence == presence)
    rows = [(a, t) for a, t in session.execute(query).all()]
    return _directory(session, rows)


def list_teams(session: Session, *, viewer: Agent) -> list[TeamRead]:
    """Teams with their members; an agent sees only their own, a supervisor all."""
    query = select(Team).order_by(Team.name, Team.id)
    if not is_supervisor(viewer):
        if viewer.team_id is None:
            return []
        query = query.where(Team.id == viewer.team_id)
    teams = list(session.scalars(query))
    members = session.execute(
        select(Agent)
        .where(
            Agent.team_id.in_([t.id for t in teams]),
            Agent.status == AgentStatus.active,
        )
        .order_by(Agent.name, Agent.id)
    ).scalars()
    by_team: dict[int, list[tuple[Agent, Team | None]]] = {t.id: [] for t in teams}
    team_of = {t.id: t for t in teams}
    for agent in members:
        if agent.team_id is not None:
            by_team[agent.team_id].append((agent, team_of[agent.team_id]))
    result = []
    for team in teams:
        entries = _directory(session, by_team[team.id])
        result.append(
            TeamRead(
                id=team.id,
                code=team.code,
                name=team.name,
                topics=list(team.topics or []),
                members=entries,
                online=sum(1 for e in entries if e.presence == Presence.online),
            )
        )
    return result


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
