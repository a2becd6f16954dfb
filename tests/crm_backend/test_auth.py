"""Agent login, the session cookie, expiry, logout and the brute-force limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.agents import auth
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.deps import SessionDep
from crm_backend.core.errors import Conflict, Forbidden, Locked, Unauthorized
from crm_backend.core.security import token_digest
from crm_backend.models import AgentSession, VerificationAttempt
from crm_backend.models.enums import AgentStatus, Presence, VerificationMethod
from tests.factories import PASSWORD, login, make_agent, make_team

LOGIN = "/api/v1/agent/auth/login"
LOGOUT = "/api/v1/agent/auth/logout"
ME = "/api/v1/agent/me"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _login(client: TestClient, employee_no: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, json={"employee_no": employee_no, "password": password})


def _failures(session: Session, employee_no: str) -> int:
    return session.scalar(
        select(func.count()).where(
            VerificationAttempt.subject == f"agent-login:{employee_no}",
            VerificationAttempt.success.is_(False),
        )
    )


# --- login -------------------------------------------------------------------


def test_login_returns_token_agent_and_expiry(client, session, settings):
    team = make_team(session, name="贵宾服务组")
    agent = make_agent(session, team=team, name="陈静")
    with time_machine.travel(T0, tick=False):
        response = _login(client, agent.employee_no)
    assert response.status_code == 200
    body = response.json()
    assert body["agent"]["id"] == agent.id
    assert body["agent"]["name"] == "陈静"
    assert body["agent"]["team"]["name"] == "贵宾服务组"
    assert body["agent"]["load"] == 0
    expected = T0 + timedelta(hours=settings.agent_session_hours)
    assert datetime.fromisoformat(body["expires_at"]) == expected
    # only the digest of the token is stored
    row = session.scalar(
        select(AgentSession).where(
            AgentSession.token_hash == token_digest(body["token"])
        )
    )
    assert row is not None and row.agent_id == agent.id
    assert row.token_hash != body["token"]
    assert row.expires_at == expected
    attempt = session.scalar(
        select(VerificationAttempt).where(
            VerificationAttempt.subject == f"agent-login:{agent.employee_no}"
        )
    )
    assert attempt is not None and attempt.success
    assert attempt.method == VerificationMethod.agent_password


def test_login_sets_httponly_lax_cookie_not_secure_outside_production(client, session):
    agent = make_agent(session)
    response = _login(client, agent.employee_no)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"crm_session={response.json()['token']};")
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/" in lowered
    assert "max-age=43200" in lowered
    assert "secure" not in lowered
    # the console's cookie alone authenticates
    assert client.get(ME).json()["id"] == agent.id


def test_login_cookie_is_secure_in_production(client, session, settings):
    prod = Settings(
        environment="production",
        service_token="a-real-service-token",
        secret_key="a-real-secret-key",
    )
    client.app.dependency_overrides[get_settings] = lambda: prod
    agent = make_agent(session)
    response = _login(client, agent.employee_no)
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_employee_get_the_same_401(client, session):
    agent = make_agent(session)
    wrong = _login(client, agent.employee_no, "wrong password")
    unknown = _login(client, "E999999", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "bad_credentials"
    assert "set-cookie" not in wrong.headers
    assert _failures(session, agent.employee_no) == 1
    assert _failures(session, "E999999") == 1


def test_agent_without_password_cannot_log_in(client, session):
    agent = make_agent(session, password=None)
    assert _login(client, agent.employee_no, "").status_code == 422
    assert _login(client, agent.employee_no, "anything").status_code == 401


def test_departed_agent_gets_403_only_with_the_right_password(client, session):
    agent = make_agent(session, status=AgentStatus.departed)
    assert _login(client, agent.employee_no, "wrong password").status_code == 401
    response = _login(client, agent.employee_no)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "agent_departed"
    assert session.scalar(select(func.count()).select_from(AgentSession)) == 0


def test_login_validates_input(client):
    response = client.post(LOGIN, json={"employee_no": "", "password": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    too_long = client.post(LOGIN, json={"employee_no": "E" * 17, "password": "x"})
    assert too_long.status_code == 422


# --- sessions ----------------------------------------------------------------


def test_requests_without_or_with_a_bad_token_are_401(client, session):
    assert client.get(ME).status_code == 401
    bad = client.get(ME, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    client.cookies.set("crm_session", "nope")
    assert client.get(ME).status_code == 401


def test_factories_login_returns_bearer_headers_without_cookie(client, session):
    agent = make_agent(session)
    headers = login(client, agent)
    assert headers["Authorization"].startswith("Bearer ")
    assert client.get(ME).status_code == 401
    assert client.get(ME, headers=headers).json()["id"] == agent.id


def test_session_expires_after_configured_hours(client, session, settings):
    settings.agent_session_hours = 2
    agent = make_agent(session)
    with time_machine.travel(T0, tick=False) as traveller:
        headers = login(client, agent)
        traveller.move_to(T0 + timedelta(hours=1, minutes=59))
        assert client.get(ME, headers=headers).status_code == 200
        traveller.move_to(T0 + timedelta(hours=2))
        response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_logout_revokes_clears_cookie_and_token_is_refused(client, session):
    agent = make_agent(session, presence=Presence.online)
    response = _login(client, agent.employee_no)
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    out = client.post(LOGOUT, headers=headers)
    assert out.status_code == 204
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith('crm_session="";') or "max-age=0" in cleared
    assert "httponly" in cleared
    assert "crm_session" not in client.cookies
    assert client.get(ME, headers=headers).status_code == 401
    client.cookies.set("crm_session", token)
    assert client.get(ME).status_code == 401
    row = session.scalar(
        select(AgentSession).where(AgentSession.token_hash == token_digest(token))
    )
    assert row is not None and row.revoked_at is not None
    # last console closed: routing must not see them online
    assert agent.presence == Presence.offline


def test_logout_by_cookie_keeps_other_sessions_and_presence(client, session):
    agent = make_agent(session, presence=Presence.online)
    other = login(client, agent)
    _login(client, agent.employee_no)  # keeps the cookie
    assert client.post(LOGOUT).status_code == 204
    assert client.get(ME).status_code == 401
    assert client.get(ME, headers=other).status_code == 200
    assert agent.presence == Presence.online


def test_departed_agent_with_a_live_session_is_refused(client, session):
    agent = make_agent(session)
    headers = login(client, agent)
    agent.status = AgentStatus.departed
    session.flush()
    response = client.get(ME, headers=headers)
    assert response.status_code == 403


# --- brute force ---------------------------------------------------------------


def test_five_failures_lock_the_employee_number_for_15_minutes(client, session):
    agent = make_agent(session)
    bystander = make_agent(session)
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(5):
            assert _login(client, agent.employee_no, "guess").status_code == 401
        locked = _login(client, agent.employee_no)
        assert locked.status_code == 423
        assert locked.json()["error"]["code"] == "locked"
        assert locked.json()["error"]["retry_after_minutes"] == 15
        # a lock-out is not itself a failure, and other agents are unaffected
        assert _failures(session, agent.employee_no) == 5
        assert _login(client, bystander.employee_no).status_code == 200
        traveller.move_to(T0 + timedelta(minutes=14, seconds=59))
        assert _login(client, agent.employee_no).status_code == 423
        traveller.move_to(T0 + timedelta(minutes=15, seconds=1))
        assert _login(client, agent.employee_no).status_code == 200


def test_a_success_resets_the_failure_count(client, session):
    agent = make_agent(session)
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(4):
            _login(client, agent.employee_no, "guess")
        traveller.shift(timedelta(seconds=1))
        assert _login(client, agent.employee_no).status_code == 200
        traveller.shift(timedelta(seconds=1))
        for _ in range(4):
            assert _login(client, agent.employee_no, "guess").status_code == 401
        assert _login(client, agent.employee_no).status_code == 200


def test_unknown_employee_numbers_lock_too(client, session):
    for _ in range(5):
        assert _login(client, "E000000", "guess").status_code == 401
    assert _login(client, "E000000", "guess").status_code == 423


@pytest.fixture()
def rollback_client(client: TestClient) -> TestClient:
    """The shared client (its request session rolls back on errors, like
    production's) with a route that writes and then fails."""

    @client.app.post("/boom")  # type: ignore[attr-defined]
    def boom(request_session: SessionDep) -> None:
        request_session.add(
            VerificationAttempt(
                subject="boom", method=VerificationMethod.phone_id, success=False
            )
        )
        request_session.flush()
        raise Conflict("boom")

    return client


def test_failures_survive_the_error_response(rollback_client, session):
    # the fixture really rolls back what a raised error wrote...
    assert rollback_client.post("/boom").status_code == 409
    boom = select(func.count()).where(VerificationAttempt.subject == "boom")
    assert session.scalar(boom) == 0
    # ...yet the failed logins are kept, so the lock-out engages
    agent = make_agent(session)
    for _ in range(5):
        assert _login(rollback_client, agent.employee_no, "guess").status_code == 401
    assert _failures(session, agent.employee_no) == 5
    assert _login(rollback_client, agent.employee_no).status_code == 423


# --- service functions ---------------------------------------------------------


def test_service_login_and_lock(session, settings):
    agent = make_agent(session)
    no = agent.employee_no
    token, row, who = auth.login(
        session, employee_no=no, password=PASSWORD, settings=settings, now=T0
    )
    assert who.id == agent.id and row.token_hash == token_digest(token)
    with pytest.raises(Unauthorized):
        auth.login(
            session,
            employee_no=no,
            password="x",
            settings=settings,
            now=T0 + timedelta(seconds=1),
        )
    for _ in range(2):
        auth.record_login_attempt(
            session, employee_no=no, success=False, now=T0 + timedelta(seconds=2)
        )
    later = T0 + timedelta(seconds=3)
    auth.ensure_login_allowed(session, employee_no=no, now=later)
    with pytest.raises(Locked) as locked:
        auth.ensure_login_allowed(session, employee_no=no, now=later, max_failures=3)
    assert locked.value.extra == {"retry_after_minutes": 15}
    # outside the window the failures no longer count
    auth.ensure_login_allowed(
        session, employee_no=no, now=T0 + timedelta(minutes=16), max_failures=3
    )
    # a success after them resets the count
    auth.record_login_attempt(session, employee_no=no, success=True, now=later)
    auth.ensure_login_allowed(
        session, employee_no=no, now=later + timedelta(seconds=1), max_failures=1
    )


def test_service_login_refuses_departed(session, settings):
    agent = make_agent(session, status=AgentStatus.departed)
    with pytest.raises(Forbidden):
        auth.login(
            session, employee_no=agent.employee_no, password=PASSWORD, settings=settings
        )


def test_service_revoke_sessions_counts_live_ones(session, settings):
    agent = make_agent(session)
    for _ in range(2):
        auth.login(
            session, employee_no=agent.employee_no, password=PASSWORD, settings=settings
        )
    assert auth.revoke_sessions(session, agent_id=agent.id, now=T0) == 2
    assert auth.revoke_sessions(session, agent_id=agent.id, now=T0) == 0
