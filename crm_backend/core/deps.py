"""FastAPI dependencies: the session, the service caller and the current agent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Depends
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
)
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


# OpenAPI security schemes, so /docs offers "Authorize" for both audiences. None
# raises on its own (auto_error=False): a missing or wrong credential is answered
# with the API's own 401 error body.
service_bearer = HTTPBearer(
    scheme_name="ServiceToken",
    description="The service token of the bot, gateway and action server "
    "(`CRM_SERVICE_TOKEN`).",
    auto_error=False,
)
service_token_header = APIKeyHeader(
    name="X-Service-Token",
    scheme_name="ServiceTokenHeader",
    description="The service token in a header of its own (alternative to Bearer).",
    auto_error=False,
)
agent_bearer = HTTPBearer(
    scheme_name="AgentBearer",
    description="The `token` answered by `POST /api/v1/agent/auth/login`.",
    auto_error=False,
)
agent_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="AgentSessionCookie",
    description="The console's session cookie, set by the login.",
    auto_error=False,
)


def require_service(
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(service_bearer)],
    header_token: Annotated[str | None, Depends(service_token_header)],
) -> None:
    """Only the bot, gateway and action server hold the service token."""
    token = header_token or (bearer.credentials if bearer is not None else None)
    if not token or not same(token, settings.service_token):
        raise Unauthorized("A valid service token is required")


ServiceDep = Depends(require_service)


def agent_token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(agent_bearer)],
    cookie: Annotated[str | None, Depends(agent_cookie)],
) -> str | None:
    """The agent's session token: the bearer header wins over the cookie."""
    if bearer is not None and bearer.credentials.strip():
        return bearer.credentials.strip()
    return cookie or None


AgentTokenDep = Annotated[str | None, Depends(agent_token)]


def agent_for_token(session: Session, token: str | None) -> Agent:
    """The active agent whose live login session ``token`` is, or ``Unauthorized``
    (``Forbidden`` for a departed agent)."""
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


def current_agent(session: SessionDep, token: AgentTokenDep) -> Agent:
    """The logged-in agent, from a bearer token or the console's session cookie."""
    return agent_for_token(session, token)


CurrentAgent = Annotated[Agent, Depends(current_agent)]
