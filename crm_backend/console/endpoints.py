"""Console API: the supervisors' overview and the live websocket (small hints).

``GET /api/v1/agent/ws``: a browser's page must be of the CRM's own origin or of
one in ``CRM_CONSOLE_ALLOWED_ORIGINS`` (else close code 4403); the ``crm_session``
cookie authenticates (close code 4401 without a valid one, and later as soon as the
session is found revoked or expired: it is re-checked every
``CRM_CONSOLE_SESSION_CHECK_SECONDS`` and on every client message). The server
sends ``{"type": "ready"}`` once subscribed, then hints: ``queue``, ``conversation``
(with ``conversation_id``) and, to supervisors, ``presence``. The client sends
``{"type": "watch", "conversation_id": N}`` (answered ``watching``, or ``error`` with
code ``forbidden`` / ``not_found``) and ``unwatch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from crm_backend.agents.access import ensure_supervisor, is_supervisor
from crm_backend.console import overview as overview_service
from crm_backend.console.dispatch import HubDep
from crm_backend.console.hub import Subscriber
from crm_backend.console.schemas import ConsoleOverview
from crm_backend.conversations import service as conversations
from crm_backend.core.deps import (
    SESSION_COOKIE,
    CurrentAgent,
    SessionDep,
    SessionFactory,
    SessionFactoryDep,
    SettingsDep,
    agent_for_token,
)
from crm_backend.core.errors import CrmError
from crm_backend.models import Agent

log = logging.getLogger(__name__)
agent_router = APIRouter(tags=["console"])
UNAUTHENTICATED = 4401
FOREIGN_ORIGIN = 4403


@agent_router.get("/console/overview", response_model=ConsoleOverview)
def get_overview(session: SessionDep, agent: CurrentAgent) -> ConsoleOverview:
    """Every queue (waiting, offered, oldest wait) and every agent's presence, load
    and capacity; supervisors only."""
    ensure_supervisor(agent)
    return overview_service.overview(session)


Who = tuple[int, int | None, bool]  # agent id, team id, supervisor


def _authenticate(sessions: SessionFactory, token: str | None) -> Who | None:
    """The agent of a live login session, or None (revoked, expired, departed)."""
    if not token:
        return None
    with sessions() as session:
        try:
            agent = agent_for_token(session, token)
        except CrmError:
            return None
        return agent.id, agent.team_id, is_supervisor(agent)


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """A browser's socket must come from the CRM's own pages (the Origin's host is
    the request's Host) or from an origin in ``CRM_CONSOLE_ALLOWED_ORIGINS``, so
    another site cannot open a socket with the agent's cookie. Clients that are not
    browsers send no Origin; they still need the session cookie."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in allowed:
        return True
    host = (websocket.headers.get("host") or "").strip().lower()
    return bool(host) and urlsplit(origin).netloc == host


class SessionEnded(Exception):
    """The socket's login session was revoked or expired (close with 4401)."""


async def _recheck(
    sessions: SessionFactory, token: str, subscriber: Subscriber
) -> None:
    """Raise ``SessionEnded`` unless the session is still live; a changed team or
    role takes effect for the hints that follow."""
    who = await run_in_threadpool(_authenticate, sessions, token)
    if who is None or who[0] != subscriber.agent_id:
        raise SessionEnded
    _, subscriber.team_id, subscriber.supervisor = who


async def _keep_checking(
    sessions: SessionFactory, token: str, subscriber: Subscriber, every: float
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await _recheck(sessions, token, subscriber)
        except SessionEnded:
            raise
        except Exception as exc:  # the database hiccupped: keep the socket, retry
            log.warning("console session re-check failed: %s", type(exc).__name__)


def _may_watch(sessions: SessionFactory, agent_id: int, conversation_id: int) -> str:
    """``watching``, ``forbidden`` or ``not_found`` (the REST API's own access rule)."""
    with sessions() as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            return "forbidden"
        try:
            conversation = conversations.get(session, conversation_id=conversation_id)
            conversations.ensure_can_access(session, agent, conversation)
        except CrmError as exc:
            return "not_found" if exc.status_code == 404 else "forbidden"
        return "watching"


async def _receive(
    websocket: WebSocket, subscriber: Subscriber, sessions: SessionFactory, token: str
) -> None:
    while True:
        try:
            data: Any = await websocket.receive_json()
        except (ValueError, KeyError):
            data = None
        await _recheck(sessions, token, subscriber)
        if data is None:
            subscriber.queue.put_nowait({"type": "error", "code": "bad_message"})
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        conversation_id = data.get("conversation_id") if kind else None
        if kind not in ("watch", "unwatch") or not isinstance(conversation_id, int):
            subscriber.queue.put_nowait({"type": "error", "code": "bad_message"})
            continue
        if kind == "unwatch":
            subscriber.watches.discard(conversation_id)
            continue
        verdict = await run_in_threadpool(
            _may_watch, sessions, subscriber.agent_id, conversation_id
        )
        if verdict == "watching":
            subscriber.watches.add(conversation_id)
            reply = {"type": "watching", "conversation_id": conversation_id}
        else:
            reply = {
                "type": "error",
                "code": verdict,
                "conversation_id": conversation_id,
            }
        subscriber.queue.put_nowait(reply)


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        await websocket.send_json(await subscriber.queue.get())


@agent_router.websocket("/ws")
async def console_socket(
    websocket: WebSocket,
    hub: HubDep,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
) -> None:
    """The console's live channel (see the module docstring)."""
    await websocket.accept()
    if not origin_allowed(websocket, settings.console_allowed_origins):
        await websocket.close(code=FOREIGN_ORIGIN)
        return
    token = websocket.cookies.get(SESSION_COOKIE) or ""
    who = await run_in_threadpool(_authenticate, sessions, token)
    if who is None or hub is None:
        await websocket.close(code=UNAUTHENTICATED)
        return
    agent_id, team_id, supervisor = who
    subscriber = hub.subscribe(
        agent_id=agent_id, team_id=team_id, supervisor=supervisor
    )
    subscriber.queue.put_nowait({"type": "ready"})
    tasks = [
        asyncio.create_task(_send(websocket, subscriber)),
        asyncio.create_task(_receive(websocket, subscriber, sessions, token)),
        asyncio.create_task(
            _keep_checking(
                sessions, token, subscriber, settings.console_session_check_seconds
            )
        ),
    ]
    ended = False
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            try:
                task.result()
            except SessionEnded:
                ended = True
            except (WebSocketDisconnect, RuntimeError):
                pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        hub.unsubscribe(subscriber)
    if ended:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=UNAUTHENTICATED)
