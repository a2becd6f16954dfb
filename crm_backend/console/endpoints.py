"""Console API: the supervisors' overview and the live websocket (small hints).

``GET /api/v1/agent/ws``: the ``crm_session`` cookie authenticates (close code 4401
without a valid one). The server sends ``{"type": "ready"}`` once subscribed, then
hints: ``queue``, ``conversation`` (with ``conversation_id``) and, to supervisors,
``presence``. The client sends ``{"type": "watch", "conversation_id": N}`` (answered
``watching``, or ``error`` with code ``forbidden`` / ``not_found``) and ``unwatch``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

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
    current_agent,
)
from crm_backend.core.errors import CrmError
from crm_backend.models import Agent

agent_router = APIRouter(tags=["console"])
UNAUTHENTICATED = 4401


@agent_router.get("/console/overview", response_model=ConsoleOverview)
def get_overview(session: SessionDep, agent: CurrentAgent) -> ConsoleOverview:
    """Every queue (waiting, offered, oldest wait) and every agent's presence, load
    and capacity; supervisors only."""
    ensure_supervisor(agent)
    return overview_service.overview(session)


def _authenticate(
    sessions: SessionFactory, token: str | None
) -> tuple[int, int | None, bool] | None:
    if not token:
        return None
    with sessions() as session:
        try:
            agent = current_agent(session, crm_session=token)
        except CrmError:
            return None
        return agent.id, agent.team_id, is_supervisor(agent)


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
    websocket: WebSocket, subscriber: Subscriber, sessions: SessionFactory
) -> None:
    while True:
        try:
            data: Any = await websocket.receive_json()
        except (ValueError, KeyError):
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
    websocket: WebSocket, hub: HubDep, sessions: SessionFactoryDep
) -> None:
    """The console's live channel (see the module docstring)."""
    await websocket.accept()
    who = await run_in_threadpool(
        _authenticate, sessions, websocket.cookies.get(SESSION_COOKIE)
    )
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
        asyncio.create_task(_receive(websocket, subscriber, sessions)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                task.result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        hub.unsubscribe(subscriber)
