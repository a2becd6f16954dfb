"""Agent login sessions: password login with a brute-force limit, logout, revocation."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_backend.agents.service import set_presence
from crm_backend.core.config import Settings
from crm_backend.core.errors import Forbidden, Locked, Unauthorized
from crm_backend.core.security import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from crm_backend.models import Agent, AgentSession, VerificationAttempt
from crm_backend.models.base import utcnow
from crm_backend.models.enums import AgentStatus, Presence, VerificationMethod

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
