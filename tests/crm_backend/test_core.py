"""Core pieces: masking, settings, error rendering, service token."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crm_backend.core.config import Settings
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


def test_agent_api_requires_login(client) -> None:
    response = client.get("/api/v1/agent/me")
    assert response.status_code == 401
    assert response.json()["error"]["message"]
