"""Core pieces: masking, settings, error rendering, service token."""

from __future__ import annotations

from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.db import make_engine
from crm_backend.core.deps import SessionDep, get_session
from crm_backend.core.masking import (
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_tail,
)
from crm_backend.core.security import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("31010119850615123X") == "**************123X"
    assert mask_tail("6225880212345678") == "************5678"
    assert mask_email("zhangwei@example.com") == "z***@example.com"
    assert mask_name("张伟") == "张*"
    assert mask_phone(None) is None and mask_phone("12") == "**"
    assert mask_tail("123") == "***"


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="CRM_SERVICE_TOKEN"):
        Settings(environment="production")
    ok = Settings(environment="production", service_token="s" * 32, secret_key="k" * 32)
    assert ok.environment == "production"


def test_passwords_and_tokens() -> None:
    hashed = hash_password("secret pass")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "secret pass")
    assert not verify_password(hashed, "wrong")
    assert not verify_password(None, "x") and not verify_password("garbage", "x")
    token = new_token()
    assert len(token) >= 40 and token_digest(token) != token


def test_service_api_requires_token(client, service_headers) -> None:
    # an unknown customer: with the token it is a 404, without it a 401
    no_token = client.get("/api/v1/service/customers/999999")
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "unauthorized"
    bad = client.get(
        "/api/v1/service/customers/999999", headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401
    token = service_headers["Authorization"].split(" ", 1)[1]
    own_header = client.get(
        "/api/v1/service/customers/999999", headers={"X-Service-Token": token}
    )
    assert own_header.status_code == 404
    basic = client.get(
        "/api/v1/service/customers/999999", headers={"Authorization": f"Basic {token}"}
    )
    assert basic.status_code == 401


def test_openapi_offers_authorize_for_both_audiences(client) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ServiceToken"]["type"] == "http"
    assert schemes["ServiceToken"]["scheme"] == "bearer"
    assert schemes["AgentBearer"]["scheme"] == "bearer"
    assert schemes["AgentSessionCookie"]["in"] == "cookie"
    assert schemes["AgentSessionCookie"]["name"] == "crm_session"
    service_op = spec["paths"]["/api/v1/service/customers/{customer_id}"]["get"]
    assert {"ServiceToken": []} in service_op["security"]
    # the token is a security scheme, no longer a header parameter of every call
    names = {p["name"].lower() for p in service_op.get("parameters", [])}
    assert not names & {"authorization", "x-service-token"}
    me = spec["paths"]["/api/v1/agent/me"]["get"]
    assert {"AgentBearer": []} in me["security"]
    assert {"AgentSessionCookie": []} in me["security"]
    assert not {p["name"] for p in me.get("parameters", [])} & {"crm_session"}
    assert "security" not in spec["paths"]["/api/v1/agent/auth/login"]["post"]


def test_agent_api_requires_login(client) -> None:
    response = client.get("/api/v1/agent/me")
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_request_session_commits_before_the_response(tmp_path) -> None:
    """A write is visible to the next request as soon as the response arrives."""
    assert get_args(SessionDep)[1].scope == "function"
    engine = make_engine(f"sqlite:///{tmp_path / 'order.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marks (n INTEGER)"))
    seen: list[int] = []
    app = FastAPI()

    def _session():  # the production shape, on this test's engine
        session = Session(engine)
        try:
            yield session
            session.commit()
        finally:
            session.close()

    app.dependency_overrides[get_session] = _session

    @app.post("/mark")
    def mark(session: SessionDep) -> None:
        session.execute(text("INSERT INTO marks VALUES (1)"))

    @app.middleware("http")
    async def _after_response(request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        # by the time the response leaves the app, the row must be committed
        with engine.connect() as conn:
            seen.append(conn.execute(text("SELECT count(*) FROM marks")).scalar_one())
        return response

    with TestClient(app) as client:
        assert client.post("/mark").status_code == 200
    assert seen == [1]
    engine.dispose()
