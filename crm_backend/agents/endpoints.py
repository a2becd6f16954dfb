"""Agent API: login/logout, me and presence, teams, directory, assignment, departure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from crm_backend.agents import assignments, auth, flows, service
from crm_backend.agents.access import ensure_can_access_customer, ensure_supervisor
from crm_backend.agents.schemas import (
    AgentDirectoryList,
    AssignmentCreate,
    AssignmentList,
    AssignmentRead,
    DepartureCreate,
    DepartureRead,
    LoginCreate,
    LoginRead,
    MeRead,
    PresenceUpdate,
    TeamList,
)
from crm_backend.console.dispatch import NotifyDep
from crm_backend.core.config import Settings
from crm_backend.core.deps import (
    SESSION_COOKIE,
    AgentTokenDep,
    CurrentAgent,
    SessionDep,
    SettingsDep,
)
from crm_backend.core.outbox import pending, presence_hint
from crm_backend.escalations import offers
from crm_backend.models import Agent
from crm_backend.models.base import utcnow
from crm_backend.models.enums import Presence

agent_router = APIRouter(tags=["agents"])


@agent_router.post("/auth/login", response_model=LoginRead)
def login(
    login_in: LoginCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> LoginRead:
    """Log in with employee number and password; sets the ``crm_session`` cookie."""
    # a failed attempt is raised with keep_changes, so the brute-force limit counts it
    token, row, agent = auth.login(
        session,
        employee_no=login_in.employee_no,
        password=login_in.password,
        settings=settings,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.agent_session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return LoginRead(
        token=token, agent=service.me(session, agent=agent), expires_at=row.expires_at
    )


@agent_router.post("/auth/logout", status_code=204)
def logout(
    agent: CurrentAgent,
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
    token: AgentTokenDep,
) -> Response:
    """Revoke this session and clear the cookie (the last one: go offline and pass
    offered conversations on)."""
    auth.logout(session, agent=agent, token=token or "")
    if agent.presence == Presence.offline:
        _release(session, agent, settings)
        pending(session).hint(presence_hint())
    notify.after_commit(session)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return response


@agent_router.get("/me", response_model=MeRead)
def get_me(agent: CurrentAgent, session: SessionDep) -> MeRead:
    """The logged-in agent: profile, team, presence, capacity and current load."""
    return service.me(session, agent=agent)


def _release(session: Session, agent: Agent, settings: Settings) -> None:
    labels = {Presence.away: "离开", Presence.offline: "离线"}
    offers.release_offers(
        session,
        agent=agent,
        now=utcnow(),
        settings=settings,
        note=f"{agent.name}已{labels.get(agent.presence, '离线')}",
    )


@agent_router.post("/me/presence", response_model=MeRead)
def set_presence(
    presence_in: PresenceUpdate,
    agent: CurrentAgent,
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
) -> MeRead:
    """Go online, away or offline (supervisors' boards are told); going away or
    offline passes the conversations offered to me on to colleagues."""
    service.set_presence(session, agent=agent, presence=presence_in.presence)
    if presence_in.presence != Presence.online:
        _release(session, agent, settings)
    pending(session).hint(presence_hint())
    notify.after_commit(session)
    return service.me(session, agent=agent)


@agent_router.get("/teams", response_model=TeamList)
def list_teams(agent: CurrentAgent, session: SessionDep) -> TeamList:
    """The caller's team (supervisors: every team) with members' presence and load."""
    return TeamList(items=service.list_teams(session, viewer=agent))


@agent_router.get("/agents", response_model=AgentDirectoryList)
def list_agents(
    agent: CurrentAgent,
    session: SessionDep,
    team_id: Annotated[int | None, Query()] = None,
    presence: Annotated[Presence | None, Query()] = None,
) -> AgentDirectoryList:
    """Colleagues for transfer: name, role, team, presence, load and capacity."""
    return AgentDirectoryList(
        items=service.list_agents(session, team_id=team_id, presence=presence)
    )


@agent_router.get("/customers/{customer_id}/assignments", response_model=AssignmentList)
def list_assignments(
    customer_id: int, agent: CurrentAgent, session: SessionDep
) -> AssignmentList:
    """Who has served this customer, newest first."""
    ensure_can_access_customer(session, agent, customer_id)
    return AssignmentList(
        items=assignments.list_assignments(session, customer_id=customer_id)
    )


@agent_router.post(
    "/customers/{customer_id}/assign", response_model=AssignmentRead, status_code=201
)
def assign(
    customer_id: int,
    assignment_in: AssignmentCreate,
    agent: CurrentAgent,
    session: SessionDep,
) -> AssignmentRead:
    """Give the customer a new servicing agent (supervisors only)."""
    ensure_supervisor(agent)
    row = assignments.assign_customer(
        session,
        customer_id=customer_id,
        agent_id=assignment_in.agent_id,
        reason=assignment_in.reason,
        by_agent_id=agent.id,
    )
    return assignments.read_assignment(session, assignment=row)


@agent_router.post("/agents/{agent_id}/depart", response_model=DepartureRead)
def depart(
    agent_id: int,
    departure_in: DepartureCreate,
    agent: CurrentAgent,
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
) -> DepartureRead:
    """Record a departure and hand the agent's customers over (supervisors only);
    their offers and held conversations go back to routing."""
    ensure_supervisor(agent)
    result = flows.depart_agent(
        session,
        agent_id=agent_id,
        by=agent,
        successor_id=departure_in.successor_id,
        settings=settings,
    )
    notify.after_commit(session)
    return DepartureRead(
        agent_id=result.agent_id,
        departed_at=result.departed_at,
        customers_reassigned=result.customers_reassigned,
        policies_repointed=result.policies_repointed,
        sessions_revoked=result.sessions_revoked,
        escalations_requeued=result.escalations_requeued,
        tickets_released=result.tickets_released,
        successors=result.successors,
    )
