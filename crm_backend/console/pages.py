"""Agent console pages: login, the workspace, the complaint tickets and the
supervisor board.

The pages are shells: they name the logged-in agent and load the scripts; every
piece of customer data and chat text is read by the browser through the agent API
(which enforces access) and rendered as text, never as HTML.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from crm_backend.agents.access import is_supervisor
from crm_backend.core.deps import SessionDep, agent_for_token
from crm_backend.core.errors import CrmError
from crm_backend.customers.schemas import ROLE_LABELS
from crm_backend.models import Agent
from crm_backend.models.enums import TicketStatus, ValueTier
from crm_backend.tickets.schemas import CATEGORY_LABELS, SEVERITY_LABELS

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/console/static"
LOGIN_PATH = "/console/login"
BRAND = "安顺人寿"

# Scripts and styles come only from this origin; nothing inline, no eval. Chat
# text is rendered with textContent, and this policy is the second line of defence.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


@lru_cache(maxsize=64)
def _fingerprint(path: str, mtime_ns: int) -> str:
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()
    return digest[:12]


def asset(path: str) -> str:
    """The URL of a static file with a content hash, so a new build is never stale."""
    file = STATIC_DIR / path
    return f"{STATIC_URL}/{path}?v={_fingerprint(path, file.stat().st_mtime_ns)}"


templates.env.globals.update(asset=asset, brand=BRAND)


def page_agent(
    session: SessionDep, crm_session: Annotated[str | None, Cookie()] = None
) -> Agent | None:
    """The agent of the session cookie, or None (pages redirect instead of 401)."""
    if not crm_session:
        return None
    try:
        return agent_for_token(session, crm_session)
    except CrmError:
        return None


PageAgent = Annotated[Agent | None, Depends(page_agent)]


def _render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)


def _agent_context(agent: Agent) -> dict[str, Any]:
    return {
        "agent": agent,
        "role_label": ROLE_LABELS.get(agent.role, str(agent.role)),
        "supervisor": is_supervisor(agent),
    }


def safe_next(value: str | None) -> str:
    """Only console paths on this site: never an open redirect."""
    if value and value.startswith("/console/") and not value.startswith("//"):
        if "\\" not in value and LOGIN_PATH not in value:
            return value
    return "/console/"


@router.get("", response_class=RedirectResponse)
def console_root() -> RedirectResponse:
    """``/console`` → the workspace."""
    return RedirectResponse("/console/", status_code=308)


@router.get("/login", response_model=None)
def login_page(
    request: Request,
    agent: PageAgent,
    next_url: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    """The login form (employee number and password)."""
    target = safe_next(next_url)
    if agent is not None:
        return RedirectResponse(target, status_code=303)
    return _render(request, "login.html", next_url=target)


@router.get("/", response_model=None)
def workspace_page(request: Request, agent: PageAgent) -> Response:
    """The agent workspace: queue, conversation, brief and customer picture."""
    if agent is None:
        return _to_login(request)
    return _render(request, "workspace.html", **_agent_context(agent))


# The agents' words for a ticket's status (the customer is told "已受理" on receipt;
# for the desk a received ticket is still waiting to be acknowledged).
TICKET_STATUS_LABELS = {
    TicketStatus.received: "待受理",
    TicketStatus.acknowledged: "已受理",
    TicketStatus.investigating: "处理中",
    TicketStatus.resolved: "已解决",
    TicketStatus.closed: "已关闭",
}
TIER_LABELS = {
    ValueTier.vip: "VIP",
    ValueTier.gold: "黄金",
    ValueTier.standard: "标准",
    ValueTier.basic: "基础",
}


@router.get("/tickets", response_model=None)
def tickets_page(request: Request, agent: PageAgent) -> Response:
    """The complaint tickets: the team's queue with live SLA countdowns, a ticket's
    detail and its verbs."""
    if agent is None:
        return _to_login(request)
    return _render(
        request,
        "tickets.html",
        statuses=TICKET_STATUS_LABELS,
        categories=CATEGORY_LABELS,
        severities=SEVERITY_LABELS,
        tiers=TIER_LABELS,
        **_agent_context(agent),
    )


@router.get("/supervisor", response_model=None)
def supervisor_page(request: Request, agent: PageAgent) -> Response:
    """Every team's queue and every agent's presence and load (supervisors only)."""
    if agent is None:
        return _to_login(request)
    if not is_supervisor(agent):
        return _render(
            request, "forbidden.html", status_code=403, **_agent_context(agent)
        )
    return _render(request, "supervisor.html", **_agent_context(agent))


def install(app: FastAPI) -> None:
    """Mount the console pages and their static files on ``app``."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="console-static")
