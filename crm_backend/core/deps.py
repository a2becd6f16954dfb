"""FastAPI dependencies: the session, the service caller and the current agent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Cookie, Depends, Header
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.db import session_scope
from crm_backend.core.errors import Forbidden, Unauthorized
from crm_backend.core.security import same, token_digest
from crm_backend.models import Agent, AgentSession
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus

SESSION_COOKIE = "crm_session"


def get_session() -> Iterator[Session]:
    """The request's session (overridden in tests)."""
    yield from session_scope()


# scope="function": the session commits BEFORE the response is sent. The default
# ends a yield dependency after sending, so a client's next request could miss
# the write it was just told had succeeded.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SessionFactory = Callable[[], AbstractContextManager[Session]]


def get_session_factory() -> SessionFactory:
    """Short sessions on demand, for long-lived connections (the console websocket
    must not hold a pooled connection while it waits); overridden in tests."""
    return contextmanager(session_scope)


SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def require_service(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    x_service_token: Annotated[str | None, Header()] = None,
) -> None:
    """Only the bot, gateway and action server hold the service token."""
    token = x_service_token or _bearer(authorization)
    if not token or not same(token, settings.service_token):
        raise Unauthorized("A valid service token is required")


ServiceDep = Depends(require_service)


def current_agent(
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
    crm_session: Annotated[str | None, Cookie()] = None,
) -> Agent:
    """The logged-in agent, from a bearer token or the console's session cookie."""
    token = _bearer(authorization) or crm_session
    if not token:
        raise Unauthorized("Please log in")
    row = session.execute(
        select(AgentSession, Agent)
        .join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise Unauthorized("Session not found; please log in again")
    agent_session, agent = row
    if agent_session.revoked_at is not None or agent_session.expires_at <= utcnow():
        raise Unauthorized("Session expired; please log in again")
    if agent.status != AgentStatus.active:
        raise Forbidden("This account is no longer active")
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]
