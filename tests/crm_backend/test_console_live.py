"""The live console: websocket authentication, hints and watches, the hub's
thread-safety and its Redis fan-out."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from crm_backend.console.hub import Hub, RedisHub
from crm_backend.core.config import Settings
from crm_backend.core.outbox import Hint, conversation_hint, presence_hint, queue_hint
from crm_backend.models import AgentSession
from crm_backend.models.base import utcnow
from tests import aio
from tests.crm_backend.takeover import (
    AGENT_URL,
    SERVICE_URL,
    bearer,
    cookie_login,
    escalate,
    make_desk,
    supervisor,
)
from tests.factories import make_agent, make_conversation, make_team
from tests.ports import free_port

WS = f"{AGENT_URL}/ws"


def _next(ws: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The next message that is not of a type in ``skip``."""
    while True:
        message = ws.receive_json()
        if message.get("type") not in skip:
            return dict(message)


def _watch(ws: Any, conversation_id: int) -> dict[str, Any]:
    ws.send_json({"type": "watch", "conversation_id": conversation_id})
    return _next(ws, skip=("queue", "presence", "conversation"))


def test_no_or_bad_cookie_is_closed_4401(client):
    with client.websocket_connect(WS) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4401
    client.cookies.set("crm_session", "not-a-session")
    with client.websocket_connect(WS) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4401


def _closed_with(ws: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    return int(exc.value.code)


def test_a_page_of_another_origin_is_closed_4403(client, session, settings):
    cookie_login(client, make_agent(session, team=make_team(session)))
    foreign = {"origin": "https://evil.example"}
    with client.websocket_connect(WS, headers=foreign) as ws:
        assert _closed_with(ws) == 4403
    # the CRM's own pages (Origin host = Host), with or without a trailing slash
    for origin in ("http://testserver", "http://TESTSERVER/"):
        with client.websocket_connect(WS, headers={"origin": origin}) as ws:
            assert ws.receive_json() == {"type": "ready"}
    settings.console_allowed_origins = ["https://console.example.com"]
    allowed = {"origin": "https://console.example.com"}
    with client.websocket_connect(WS, headers=allowed) as ws:
        assert ws.receive_json() == {"type": "ready"}
    with client.websocket_connect(WS, headers=foreign) as ws:
        assert _closed_with(ws) == 4403


def test_allowed_origins_setting_takes_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv(
        "CRM_CONSOLE_ALLOWED_ORIGINS", "https://a.example/, HTTPS://B.example"
    )
    assert Settings().console_allowed_origins == [
        "https://a.example",
        "https://b.example",
    ]


def test_a_revoked_session_is_closed_on_the_next_message(client, session):
    cookie_login(client, make_agent(session, team=make_team(session)))
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json() == {"type": "ready"}
        assert client.post(f"{AGENT_URL}/auth/logout").status_code == 204
        ws.send_json({"type": "unwatch", "conversation_id": 1})
        assert _closed_with(ws) == 4401


def test_an_expired_session_is_closed_by_the_periodic_check(client, session, settings):
    settings.console_session_check_seconds = 0.5
    agent = make_agent(session, team=make_team(session))
    cookie_login(client, agent)
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json() == {"type": "ready"}
        # well before the first check: the test and the socket share one session
        login_session = session.scalars(
            select(AgentSession).where(AgentSession.agent_id == agent.id)
        ).one()
        login_session.expires_at = utcnow() - timedelta(seconds=1)
        session.flush()
        started = time.monotonic()
        assert _closed_with(ws) == 4401
        assert time.monotonic() - started < 5


def test_queue_hints_reach_the_team_and_not_others(client, session, service_headers):
    desk = make_desk(session)
    outsider = make_agent(session, team=make_team(session, topics=["vip"]))
    cookie_login(client, desk.agents[1])
    with client.websocket_connect(WS) as mine:
        assert mine.receive_json() == {"type": "ready"}
        client.cookies.clear()
        cookie_login(client, outsider)
        with client.websocket_connect(WS) as theirs:
            assert theirs.receive_json() == {"type": "ready"}
            escalate(client, service_headers, desk.conversation)
            assert mine.receive_json() == {"type": "queue"}
            # the outsider's first message is the answer to a watch: no hint came
            refused = _watch(theirs, desk.conversation.id)
            assert refused == {
                "type": "error",
                "code": "forbidden",
                "conversation_id": desk.conversation.id,
            }
            assert _watch(theirs, 999_999)["code"] == "not_found"


def test_watchers_hear_of_new_messages(client, session, service_headers):
    desk = make_desk(session)
    body = escalate(client, service_headers, desk.conversation)
    holder = desk.agents[0]
    headers = bearer(client, holder)
    client.post(f"{AGENT_URL}/escalations/{body['id']}/accept", headers=headers)
    cookie_login(client, desk.agents[1])
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json()["type"] == "ready"
        assert _watch(ws, desk.conversation.id) == {
            "type": "watching",
            "conversation_id": desk.conversation.id,
        }
        client.post(
            f"{SERVICE_URL}/conversations/messages",
            json={
                "channel": "web",
                "external_id": desk.conversation.external_id,
                "text": "<script>alert(1)</script>",
            },
            headers=service_headers,
        )
        hint = _next(ws, skip=("queue", "presence"))
        assert hint == {"type": "conversation", "conversation_id": desk.conversation.id}
        client.post(
            f"{AGENT_URL}/conversations/{desk.conversation.id}/messages",
            json={"text": "您好"},
            headers=headers,
        )
        assert _next(ws, skip=("queue", "presence"))["type"] == "conversation"
        ws.send_json({"type": "unwatch", "conversation_id": desk.conversation.id})
        ws.send_json({"type": "dance"})
        assert ws.receive_json() == {"type": "error", "code": "bad_message"}
        ws.send_text("not json")
        assert ws.receive_json() == {"type": "error", "code": "bad_message"}


def test_supervisors_see_presence_changes(client, session):
    team = make_team(session)
    agent = make_agent(session, team=team)
    boss = supervisor(session)
    cookie_login(client, boss)
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json()["type"] == "ready"
        response = client.post(
            f"{AGENT_URL}/me/presence",
            json={"presence": "away"},
            headers=bearer(client, agent),
        )
        assert response.status_code == 200
        assert _next(ws) == {"type": "presence"}


# ---- the hub itself ----------------------------------------------------------------


def test_hub_delivery_rules_and_thread_safety():
    async def scenario() -> None:
        hub = Hub()
        alice = hub.subscribe(agent_id=1, team_id=10, supervisor=False)
        boss = hub.subscribe(agent_id=2, team_id=None, supervisor=True)
        other = hub.subscribe(agent_id=3, team_id=20, supervisor=False)
        other.watches.add(99)
        assert hub.subscriber_count == 3
        threads = [
            threading.Thread(target=hub.publish, args=(queue_hint(team_ids=[10]),))
            for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        hub.publish(presence_hint())
        hub.publish(conversation_hint(99))
        hub.publish(conversation_hint(98, agent_ids=[1]))
        await asyncio.sleep(0.05)

        def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[str]:
            items = []
            while not queue.empty():
                items.append(queue.get_nowait()["type"])
            return items

        assert drain(alice.queue) == ["queue"] * 20 + ["conversation"]
        assert drain(boss.queue) == ["queue"] * 20 + ["presence"]
        assert drain(other.queue) == ["conversation"]
        hub.unsubscribe(alice)
        assert hub.subscriber_count == 2

    aio.run(scenario())


def test_hint_json_round_trip():
    hint = Hint({"type": "queue"}, frozenset({1}), frozenset({2}), True, None)
    assert Hint.from_json(hint.to_json()) == hint


@pytest.fixture()
def redis_url() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (skipped without one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_hub_fans_out_across_workers(redis_url):
    async def scenario() -> None:
        one, two = RedisHub(redis_url), RedisHub(redis_url)
        await one.start()
        await two.start()
        try:
            here = one.subscribe(agent_id=1, team_id=5, supervisor=False)
            there = two.subscribe(agent_id=2, team_id=5, supervisor=False)
            # published from a worker thread of the first process
            await asyncio.to_thread(one.publish, queue_hint(team_ids=[5]))
            got = await asyncio.wait_for(
                asyncio.gather(here.queue.get(), there.queue.get()), timeout=5
            )
            assert got == [{"type": "queue"}, {"type": "queue"}]
        finally:
            await one.stop()
            await two.stop()

    aio.run(scenario())


def test_a_conversation_of_an_unknown_customer_can_be_watched_by_its_team(
    client, session, service_headers
):
    desk = make_desk(session)
    anonymous = make_conversation(session)
    escalate(client, service_headers, anonymous)
    cookie_login(client, desk.agents[0])
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json()["type"] == "ready"
        assert _watch(ws, anonymous.id)["type"] == "watching"
