"""The console's pages over plain HTTP: redirects, 403, headers, static files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from crm_backend.console.pages import safe_next
from tests.console.support import NAMED_AGENT, PASSWORD, SUPERVISOR
from tests.live_crm import LiveCrm


@contextmanager
def _login(crm: LiveCrm, employee_no: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=crm.url, timeout=15) as client:
        response = client.post(
            "/api/v1/agent/auth/login",
            json={"employee_no": employee_no, "password": PASSWORD},
        )
        response.raise_for_status()
        yield client


@pytest.mark.parametrize("path", ["/console/", "/console/supervisor"])
def test_pages_send_strangers_to_login(console_crm: LiveCrm, path: str) -> None:
    response = httpx.get(console_crm.url + path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/login?next={path}"


def test_login_page_is_chinese_and_locked_down(console_crm: LiveCrm) -> None:
    response = httpx.get(console_crm.url + "/console/login")
    assert response.status_code == 200
    assert "坐席登录" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_the_session_cookie_is_httponly_and_samesite(console_crm: LiveCrm) -> None:
    response = httpx.post(
        console_crm.url + "/api/v1/agent/auth/login",
        json={"employee_no": NAMED_AGENT, "password": PASSWORD},
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie or "samesite=strict" in cookie


def test_supervisor_board_is_for_supervisors(console_crm: LiveCrm) -> None:
    with _login(console_crm, NAMED_AGENT) as agent:
        denied = agent.get("/console/supervisor")
        assert denied.status_code == 403
        assert "无权访问" in denied.text
        assert agent.get("/console/").status_code == 200
    with _login(console_crm, SUPERVISOR) as supervisor:
        board = supervisor.get("/console/supervisor")
        assert board.status_code == 200
        assert "各团队队列" in board.text


def test_logged_in_agent_skips_the_login_page(console_crm: LiveCrm) -> None:
    with _login(console_crm, NAMED_AGENT) as agent:
        response = agent.get("/console/login?next=/console/supervisor")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/supervisor"


def test_static_assets_are_served_with_a_content_hash(console_crm: LiveCrm) -> None:
    page = httpx.get(console_crm.url + "/console/login").text
    assert "/console/static/js/login.js?v=" in page
    script = httpx.get(console_crm.url + "/console/static/js/login.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/console/supervisor", "/console/supervisor"),
        (None, "/console/"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/console/\\\\evil.example", "/console/"),
        ("/api/v1/agent/me", "/console/"),
        ("/console/login?next=/x", "/console/"),
    ],
)
def test_next_is_never_an_open_redirect(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
